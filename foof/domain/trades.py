"""The trade state machine on ``items.sold`` / ``items.to`` (docs/legacy-wire.md §4-§8).

    on sale (±1) --order(owner, buyer)--> reserved (±3) --trade(buyer|owner)--> sold (±2)
                 <--------reset(owner)---

Each transition is one conditional ``UPDATE … WHERE sold = <expected>``: whatever number
of requests race, the row count lets exactly one of them win, on SQLite and MySQL alike.

Reserving a product for a buyer opens an order, so it obeys the buyer's open-orders cap
(:func:`foof.domain.orders.ensure_room_for`); at the cap ``/item/order`` answers its usual
``not for trade`` failure.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from foof.domain import events, orders
from foof.domain.errors import DomainError, NotForTrade, NotOwner
from foof.domain.listings import ON_SALE, RESERVED, SOLD, get, parse_id
from foof.domain.tx import after_commit, atomic
from foof.extensions import db
from foof.models import Item, User


class NotReserved(DomainError):
    """``reset`` of an item that is not reserved."""


def _sign(sold: int) -> int:
    return 1 if sold > 0 else -1


def _transition(item: Item, expected: int, target: int, **values: Any) -> bool:
    done = db.session.execute(  # type: ignore[attr-defined]  # a CursorResult
        update(Item)
        .where(Item.itemid == item.itemid, Item.sold == expected)
        .values(sold=target, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if done == 1:
        after_commit(events.item_changed, item.itemid)
    return done == 1


def order(owner_uuid: int, itemid: Any, buyer: Any) -> int:
    """Reserve the owner's item for ``buyer``: ±1 → ±3."""

    def work() -> int:
        item = get(itemid)
        if item.uuid != owner_uuid:
            raise NotOwner()
        try:
            to = parse_id(buyer)
        except DomainError:
            raise NotForTrade() from None
        if to == owner_uuid or db.session.get(User, to) is None:
            raise NotForTrade()
        if abs(item.sold) != ON_SALE:
            raise NotForTrade()
        if item.sold > 0:  # want posts open no order, so they do not count against the buyer's cap
            orders.ensure_room_for(to)  # at the cap: TooManyOpenOrders, a NotForTrade
        if not _transition(item, item.sold, RESERVED * _sign(item.sold), to=to):
            raise NotForTrade()
        orders.open_for(item, to)
        return item.itemid

    return atomic(work)


def trade(caller_uuid: int, itemid: Any) -> int:
    """Finish a reservation: ±3 → ±2, by the reserved buyer or the owner."""

    def work() -> int:
        item = get(itemid)
        if abs(item.sold) != RESERVED or caller_uuid not in (item.uuid, item.to):
            raise NotForTrade()
        if not _transition(item, item.sold, SOLD * _sign(item.sold)):
            raise NotForTrade()
        orders.close_for(item.itemid, orders.COMPLETED)
        return item.itemid

    return atomic(work)


def reset(owner_uuid: int, itemid: Any) -> int:
    """Cancel a reservation: ±3 → ±1 and ``to = 0``."""

    def work() -> int:
        item = get(itemid)
        if item.uuid != owner_uuid:
            raise NotOwner()
        if abs(item.sold) != RESERVED or not _transition(item, item.sold, ON_SALE * _sign(item.sold), to=0):
            raise NotReserved()
        orders.close_for(item.itemid, orders.CANCELLED)
        return item.itemid

    return atomic(work)


def reserved_buyer(itemid: Any) -> int | None:
    return db.session.execute(select(Item.to).where(Item.itemid == itemid)).scalar()
