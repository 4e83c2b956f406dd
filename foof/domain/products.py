"""Products: the secondhand face's view of items with ``sold > 0`` (docs/architecture.md §1).

``name``↔``title``, ``description``↔``note``, ``category``↔``type``, ``img``↔ first image of
``imgurl``; ``location`` and ``tags`` live in ``item_details``. State ``"0"``↔1,
``"1"``↔3 or 2, ``"2"``↔4. Adding, editing and taking down go through the same listing
functions as the legacy face.

A deleted product is gone (issue #11): the detail answers 4006 for 4 (taken down here or
deleted through ``/item/delete``) and for the old server's 3 without a buyer — the old server
wrote 3 for deletions too, and a real reservation always names its buyer in ``to``. A
seller's phone number is public only when the seller published it through this face (see
:func:`published_phone`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, func, select, update

from foof.domain import clock, listings, media, profiles, reads
from foof.domain.errors import Invalid, ItemNotFound, NotOwner
from foof.domain.listings import DELETED, ON_SALE, RESERVED, SOLD
from foof.domain.tx import after_commit, atomic
from foof.extensions import db
from foof.models import Item, ItemDetail, User, UserProfile

STATE = {ON_SALE: "0", RESERVED: "1", SOLD: "1", DELETED: "2"}
MAX_PAGE_SIZE = 100


def state_of(item: Item) -> str | None:
    return STATE.get(item.sold)


def _paging(page: Any, size: Any) -> tuple[int, int]:
    page = 1 if page in (None, "") else listings.parse_int(page)
    size = 20 if size in (None, "") else listings.parse_int(size)
    if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
        raise Invalid()
    return page, size


_items, _details = Item.__table__, ItemDetail.__table__
#: The list's columns only (what ``list_entry`` shows), built once and read on the per-thread
#: read connection (foof/domain/reads.py): the ORM load of 20 items with their details rows
#: cost about three times the rest of the request. Newest first through the primary key.
_ON_SALE = (
    select(_items.c.itemid, _items.c.title, _items.c.note, _items.c.price, _items.c.imgurl, _details.c.location)
    .select_from(_items.outerjoin(_details, _details.c.itemid == _items.c.itemid))
    .where(_items.c.sold == ON_SALE)
    .order_by(_items.c.itemid.desc())
    .limit(bindparam("size"))
    .offset(bindparam("skip"))
)
_ON_SALE_IN = _ON_SALE.where(_items.c.type == bindparam("category"))


def on_sale(page: Any = None, size: Any = None, category: Any = None) -> list[reads.Record]:
    """A page of the products on sale, newest first: read-only rows of ``itemid``, ``title``,
    ``note``, ``price``, ``imgurl`` and the details' ``location`` (None without details)."""
    page, size = _paging(page, size)
    params = {"size": size, "skip": (page - 1) * size}
    if category is None:
        return reads.every(_ON_SALE, params)
    return reads.every(_ON_SALE_IN, {**params, "category": listings.parse_int(category)})


def is_gone(item: Item) -> bool:
    """Deleted: 4 (FOOF's deletion) or the old server's 3 with nobody reserved (its deletion)."""
    return item.sold == DELETED or (item.sold == RESERVED and not item.to)


def detail(pid: Any) -> tuple[Item, ItemDetail | None]:
    """``(item, details)`` of a live product: on sale, reserved or sold (not want posts, not
    deleted)."""
    try:
        item = db.session.get(Item, listings.parse_id(pid))
    except Invalid:
        raise ItemNotFound() from None
    if item is None or item.sold <= 0 or is_gone(item):
        raise ItemNotFound()
    return item, db.session.get(ItemDetail, item.itemid)


def published_phone(seller_uuid: int) -> str | None:
    """The seller's phone number if they published it through the secondhand profile, else
    None. Without a schema change the rule is: the account has a secondhand login (it was
    created on this face, where ``users.phonenumber`` starts as a placeholder, so a real number
    there can only have come from ``POST /users/detail``) and the number is not the
    placeholder. A legacy account's number is its login name, never published."""
    row = db.session.execute(
        select(User.phonenumber, UserProfile.login)
        .join(UserProfile, UserProfile.uuid == User.uuid)
        .where(User.uuid == seller_uuid)
    ).first()
    if row is None or not row.login or not row.phonenumber or profiles.is_placeholder(row.phonenumber):
        return None
    return row.phonenumber


def _fields(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str | None]]:
    """Map product JSON onto item fields and details."""
    mapped: dict[str, Any] = {}
    for source, target in (("name", "title"), ("description", "note"), ("price", "price")):
        if source in data:
            mapped[target] = data[source]
    if "category" in data:
        mapped["type"] = data["category"]
    extra: dict[str, str | None] = {}
    for key in ("location", "tags"):
        if key in data:
            value = data[key]
            if value is not None and (isinstance(value, (dict, list, bool)) or len(str(value)) > 255):
                raise Invalid()
            extra[key] = None if value is None else str(value)
    return mapped, extra


def add(uuid: int, data: Mapping[str, Any]) -> int:
    mapped, extra = _fields(data)
    mapped.setdefault("depreciatione", 0)
    mapped["sold"] = ON_SALE
    for required in ("title", "price"):
        if required not in mapped:
            raise Invalid()
    mapped.setdefault("type", 8)
    item = listings.add(uuid, mapped)
    now = clock.now()

    def work() -> None:
        db.session.add(ItemDetail(itemid=item.itemid, created_at=now, updated_at=now, **extra))

    atomic(work)
    return item.itemid


def update_product(uuid: int, pid: Any, data: Mapping[str, Any]) -> None:
    mapped, extra = _fields(data)
    listings.modify(uuid, pid, mapped)  # ownership and validation live there
    itemid = listings.parse_id(pid)
    now = clock.now()

    def work() -> None:
        if db.session.get(ItemDetail, itemid) is None:
            db.session.add(ItemDetail(itemid=itemid, created_at=now, updated_at=now, **extra))
        else:
            db.session.execute(update(ItemDetail).where(ItemDetail.itemid == itemid).values(updated_at=now, **extra))

    atomic(work)


def set_image(uuid: int, pid: Any, data: bytes) -> str:
    """Store a product picture (``upload/p<uuid4>.jpg``) as the item's first image."""
    item = listings.get(pid)
    if item.uuid != uuid:
        raise NotOwner()
    name = profiles.store_upload(data, "p")
    rest = [p for p in (item.imgurl or "").split("++") if p and p != listings.DEFAULT_IMAGE]

    def work() -> None:
        current = listings.get(pid)
        if current.uuid != uuid:
            raise NotOwner()
        urls = ["upload/" + name] + [p for p in rest if not p.startswith("upload/p")][: listings.MAX_IMAGES - 1]
        db.session.execute(
            update(Item).where(Item.itemid == current.itemid).values(imgurl="".join(u + "++" for u in urls))
        )
        stale_uploads = [p[len("upload/") :] for p in rest if p.startswith("upload/p")]
        after_commit(media.remove_quietly, profiles.upload_root(), stale_uploads)

    atomic(work)
    return "/upload/" + name


def take_down(uuid: int, pid: Any) -> None:
    listings.delete(uuid, pid)


def count_on_sale() -> int | None:
    return db.session.execute(select(func.count()).select_from(Item).where(Item.sold == ON_SALE)).scalar()
