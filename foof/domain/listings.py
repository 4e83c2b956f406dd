"""Listings: items for sale (``sold > 0``) and "want to buy" posts (``sold < 0``).

States (docs/legacy-wire.md §4): 1 on sale, 3 reserved for ``to``, 2 sold to ``to``, 4 deleted; want
posts use the negatives. The old server wrote 3 for "deleted" too; deletion now writes 4.
Every change is one transaction; contested ones are conditional updates.

Orders build on listings (:mod:`foof.domain.orders` imports this module, never the other way):
what a listing's own changes need from its order, the order states and closing the item's
open order when the item is deleted, lives here and :mod:`foof.domain.orders` re-exports it.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, case, select, update

from foof.domain import clock, events, media, reads
from foof.domain.errors import Invalid, ItemNotFound, NotOwner
from foof.domain.tx import after_commit, atomic
from foof.domain.values import (  # noqa: F401  (re-exported: other modules read them from here)
    INT_MAX,
    INT_MIN,
    parse_depreciation,
    parse_id,
    parse_int,
    parse_price,
    parse_text,
)
from foof.extensions import db
from foof.models import AccountBlock, HeldListing, Item, ListingDate, Order

ON_SALE, SOLD, RESERVED, DELETED = 1, 2, 3, 4
DELETED_STATES = (DELETED, -DELETED)
DEFAULT_IMAGE = "image/item/default.jpg"
CATEGORIES = {
    1: "电子产品",
    2: "服饰鞋包",
    3: "交通工具",
    4: "美妆个护",
    5: "日常用品",
    6: "图书文具",
    7: "运动健身",
    8: "其他",
}
MAX_IMAGES = 4
#: ``orders.state`` (docs/rest-api.md): :data:`foof.domain.orders.OPEN` etc. are these.
ORDER_OPEN, ORDER_CANCELLED, ORDER_COMPLETED = "0", "1", "2"


class SellerDisabled(Invalid):
    """A listing added by an account staff disabled (a request already past its token check
    when the account was disabled). An :class:`Invalid`, so both faces refuse it as input."""


#: Wire field → parser; the same rules serve add and modify (and the secondhand face's
#: products, which map name, description, price and category onto these). A price is any
#: finite number ≥ 0; a depreciation a number 0-100 stored rounded (the echo of /item/add
#: keeps what was sent, see :func:`foof.domain.values.parse_depreciation`).
PARSERS: dict[str, Callable[[Any], Any]] = {
    "title": lambda v: parse_text(v, minimum=1),
    "type": parse_int,
    "price": parse_price,
    "depreciatione": parse_depreciation,
    "note": parse_text,
}


def parse_fields(fields: Mapping[str, Any], required: Container[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, parser in PARSERS.items():
        if name in fields:
            values[name] = parser(fields[name])
        elif name in required:
            raise Invalid()
    return values


def get(itemid: Any) -> Item:
    """A live (not deleted) item, or :class:`ItemNotFound`."""
    try:
        itemid = parse_id(itemid)
    except Invalid:
        raise ItemNotFound() from None
    item = db.session.get(Item, itemid)
    if item is None or item.sold in DELETED_STATES:
        raise ItemNotFound()
    return item


#: Built once: building a select and its cache key costs more than running it (~90 µs).
_VIEW = select(Item.__table__).where(Item.__table__.c.itemid == bindparam("itemid"))


def view(itemid: Any) -> reads.Record:
    """A read-only row of a live item (Core select, for the hot GET route)."""
    try:
        itemid = parse_id(itemid)
    except Invalid:
        raise ItemNotFound() from None
    found = reads.first(_VIEW, {"itemid": itemid})
    if found is None or found.sold in DELETED_STATES:  # checked here: NOT IN costs more than the lookup
        raise ItemNotFound()
    return found


def add(uuid: int, fields: Mapping[str, Any]) -> Item:
    """Create a listing from wire ``fields``; only the six item fields are read."""
    values = parse_fields(fields, required=("title", "type", "price", "depreciatione"))
    values.setdefault("note", "")
    sold = parse_int(fields.get("sold"))
    if sold not in (ON_SALE, -ON_SALE):
        raise Invalid()

    def work() -> Item:
        item = Item(uuid=uuid, imgurl=DEFAULT_IMAGE, sold=sold, to=0, **values)
        db.session.add(item)
        db.session.flush()
        db.session.add(ListingDate(itemid=item.itemid, created_at=clock.now()))  # the console's chart
        # Checked after the insert, with a locking read: a disable committing meanwhile either
        # is seen here (its row is locked until it commits) or sees this item in its own
        # locking read of the seller's listings and holds it (issue #15).
        blocked = select(AccountBlock.uuid).where(AccountBlock.uuid == uuid).with_for_update()
        if db.session.execute(blocked).first() is not None:
            raise SellerDisabled()
        after_commit(events.item_changed, item.itemid)
        return item

    return atomic(work)


def _owned(uuid: int, itemid: Any) -> Item:
    item = get(itemid)
    if item.uuid != uuid:
        raise NotOwner()
    return item


def modify(uuid: int, itemid: Any, fields: Mapping[str, Any]) -> None:
    """Change text, category, price or depreciation; ``sold`` and ``imgurl`` are ignored."""

    def work() -> None:
        item = _owned(uuid, itemid)
        values = parse_fields(fields, required=())
        if values:
            db.session.execute(update(Item).where(Item.itemid == item.itemid).values(**values))
            after_commit(events.item_changed, item.itemid)

    atomic(work)


def delete(uuid: int, itemid: Any) -> None:
    """Mark deleted (4 / -4), then remove its images and let search forget it."""

    def work() -> None:
        _remove(_owned(uuid, itemid))

    atomic(work)


def _remove(item: Item) -> None:
    """Delete ``item`` (call inside a transaction): the deleted state, its open order
    cancelled, its images removed and search told after the commit."""
    images = image_paths(item.imgurl)
    uploads = upload_paths(item.imgurl)
    done = db.session.execute(  # type: ignore[attr-defined]  # a CursorResult
        update(Item)
        .where(Item.itemid == item.itemid, Item.sold.not_in(DELETED_STATES))
        .values(sold=case((Item.sold > 0, DELETED), else_=-DELETED))
    ).rowcount
    if done != 1:
        raise ItemNotFound()
    close_open_order(item.itemid, ORDER_CANCELLED)
    after_commit(media.remove_quietly, current_app.config["FOOF_MEDIA_ROOT"], images)
    after_commit(media.remove_quietly, current_app.config["FOOF_UPLOAD_ROOT"], uploads)
    after_commit(events.item_changed, item.itemid)


# -- staff moderation (issue #15) ------------------------------------------------------------
# A taken-down listing gets the deleted state, so it leaves both faces, favourites, the
# recommendations and search exactly as a deletion by its seller does (every read already
# excludes DELETED_STATES); its open order is cancelled. A disabled seller's listings are
# *held*: also the deleted state (so no read needs to learn a new one), with the state to
# come back to in ``held_listings``. An item held while reserved loses its reservation (the
# open order is cancelled, freeing the buyer's cap) and comes back on sale.


def take_down(itemid: Any) -> Item:
    """Staff removal of a listing, live or held (call inside a transaction); the item."""
    try:
        key = parse_id(itemid)
    except Invalid:
        raise ItemNotFound() from None
    item = db.session.get(Item, key)
    if item is None:
        raise ItemNotFound()
    held = db.session.get(HeldListing, key)
    if held is not None:  # already hidden with its seller: it simply never comes back
        db.session.delete(held)
        return item
    _remove(item)
    return item


def hold_listings(uuid: int) -> int:
    """Hide every live listing of ``uuid`` (call inside a transaction); how many."""
    held = 0
    live = (  # a locking read: the newest committed rows, and it waits for an add in flight
        select(Item).where(Item.uuid == uuid, Item.sold.not_in(DELETED_STATES)).order_by(Item.itemid).with_for_update()
    )
    for item in db.session.execute(live).scalars().all():
        sign = 1 if item.sold > 0 else -1
        previous = item.sold
        values: dict[str, Any] = {"sold": DELETED * sign}
        if abs(item.sold) == RESERVED and item.to:
            previous, values["to"] = ON_SALE * sign, 0
            close_open_order(item.itemid, ORDER_CANCELLED)
        done = db.session.execute(  # type: ignore[attr-defined]  # a CursorResult
            update(Item).where(Item.itemid == item.itemid, Item.sold == item.sold).values(**values)
        ).rowcount
        if done == 1:
            db.session.add(HeldListing(itemid=item.itemid, uuid=uuid, previous=previous, held_at=clock.now()))
            after_commit(events.item_changed, item.itemid)
            held += 1
    db.session.flush()
    return held


def restore_listings(uuid: int) -> int:
    """Bring back what :func:`hold_listings` hid (call inside a transaction); how many."""
    restored = 0
    for held in db.session.execute(select(HeldListing).where(HeldListing.uuid == uuid)).scalars().all():
        done = db.session.execute(  # type: ignore[attr-defined]  # a CursorResult
            update(Item)
            .where(Item.itemid == held.itemid, Item.sold.in_(DELETED_STATES))
            .values(sold=held.previous)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.delete(held)
        if done == 1:
            after_commit(events.item_changed, held.itemid)
            restored += 1
    db.session.flush()
    return restored


def is_held(itemid: int) -> bool:
    return db.session.get(HeldListing, int(itemid)) is not None


def close_open_order(itemid: int, state: str) -> None:
    """Move the item's open order (if any) to ``state`` (call inside a transaction).
    :func:`foof.domain.orders.close_for` is this function."""
    db.session.execute(
        update(Order)
        .where(Order.itemid == itemid, Order.state == ORDER_OPEN)
        .values(state=state, updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )


def image_paths(imgurl: str | None) -> list[str]:
    """Media-relative paths of an item's own uploaded images (never the shared default)."""
    found = []
    for part in (imgurl or "").split("++"):
        part = part.strip().replace("\\", "/")
        if part.startswith("image/item/") and part != DEFAULT_IMAGE and "/.." not in part:
            found.append(part[len("image/") :])
    return found


def upload_paths(imgurl: str | None) -> list[str]:
    """Upload-root-relative paths of product pictures added on the secondhand face."""
    found = []
    for part in (imgurl or "").split("++"):
        part = part.strip().replace("\\", "/")
        if part.startswith("upload/p") and "/.." not in part and part.count("/") == 1:
            found.append(part[len("upload/") :])
    return found


def set_images(uuid: int, itemid: Any, uploads: Iterable[bytes]) -> list[str]:
    """Replace an item's photos with 1-4 uploads (bytes, in arrival order; empty ones skipped).

    Every upload is validated and re-encoded before anything is written; files are written
    atomically, then ``imgurl`` is committed, and only then are stale files removed.
    """
    uploads = [data for data in uploads if data]
    if not 1 <= len(uploads) <= MAX_IMAGES:
        raise Invalid()
    item = _owned(uuid, itemid)
    jpegs = [media.reencode(data, media.ITEM_SIDE) for data in uploads]
    root = current_app.config["FOOF_MEDIA_ROOT"]
    names = [f"item/{item.uuid}-{item.itemid}-{n}.jpg" for n in range(len(jpegs))]
    for name, jpeg in zip(names, jpegs):
        media.write_atomic(root, name, jpeg)
    urls = ["image/" + name for name in names]

    def work() -> None:
        current = _owned(uuid, itemid)
        stale = [p for p in image_paths(current.imgurl) if p not in names]
        db.session.execute(
            update(Item).where(Item.itemid == current.itemid).values(imgurl="".join(u + "++" for u in urls))
        )
        after_commit(media.remove_quietly, root, stale)

    atomic(work)
    return urls


def published_by(uuid: Any) -> Sequence[Item]:
    """Every live item of this user (deleted excluded), by ``itemid``."""
    uuid = parse_id(uuid)
    stmt = select(Item).where(Item.uuid == uuid, Item.sold.not_in(DELETED_STATES)).order_by(Item.itemid)
    return db.session.execute(stmt).scalars().all()


def reserved_for(uuid: int) -> Sequence[Item]:
    """Items whose ``to`` is this user (reserved or sold to them), deleted excluded."""
    stmt = select(Item).where(Item.to == uuid, Item.sold.not_in(DELETED_STATES)).order_by(Item.itemid)
    return db.session.execute(stmt).scalars().all()
