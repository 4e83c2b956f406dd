"""Orders (docs/rest-api.md and docs/architecture.md §1): one row per reservation, driving ``items.sold``/``items.to``.

The same transitions serve both faces: the legacy ``/item/order``, ``/item/trade`` and
``/item/reset`` open, complete and cancel an order through :mod:`foof.domain.trades`, and the
secondhand ``/orders`` routes call the functions here. Every transition is a conditional
update on the order *and* on the item in one transaction, so of any number of racing
requests exactly one wins.

Holding against one buyer emptying the market (issue #11): a buyer holds at most
``FOOF_MAX_OPEN_ORDERS`` open orders, whichever face opened them, and places at most
``FOOF_ORDERS_PER_HOUR`` orders on the secondhand face in any rolling hour (cancelled ones
count: placing and cancelling is the same blockade). Both checks run in the transaction that
opens the order, after the buyer's ``rate_locks`` row is taken, so orders sent at once by one
buyer are counted one after another and exactly the cap gets through.

Payment proof: a pay id recorded from a verified Alipay notice is final. A pay id typed by
hand is only accepted from the **seller** (confirming a payment received outside Alipay: the
buyer has every reason to claim a payment, the seller none), only while the order has no pay
id, and it is stored with the :data:`MANUAL` mark so the server knows it is unverified; a
verified notice for the order later replaces it. The wire shows the number without the mark
(the seed's ``payId`` is a bare string).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from flask import current_app
from sqlalchemy import func, or_, select, update

from foof.domain import clock, events, ratelimit
from foof.domain.errors import DomainError, Invalid, ItemNotFound, NotForTrade, NotOwner
from foof.domain.listings import ON_SALE, ORDER_CANCELLED, ORDER_COMPLETED, ORDER_OPEN, RESERVED, SOLD, get, parse_id
from foof.domain.listings import close_open_order as close_for  # noqa: F401  (shared by both faces)
from foof.domain.tx import after_commit, atomic
from foof.extensions import db
from foof.models import Item, Order

log = logging.getLogger(__name__)
OPEN, CANCELLED, COMPLETED = ORDER_OPEN, ORDER_CANCELLED, ORDER_COMPLETED
NUMBER_RE = re.compile(r"^[0-9A-Za-z_-]{1,64}\Z")
#: Stored before a hand-entered pay id. Outside NUMBER_RE, so never part of an Alipay trade_no;
#: the column holds 64 characters, so a hand-entered pay id is at most 63.
MANUAL = "~"
HOUR = 3600


class OrderNotChangeable(DomainError):
    """No such order, or not in a state that allows this (4007)."""


class OwnProduct(DomainError):
    """A seller trying to buy their own product."""


class TooManyOpenOrders(NotForTrade):
    """The buyer already holds ``FOOF_MAX_OPEN_ORDERS`` open orders. A :class:`NotForTrade`, so
    the legacy ``/item/order`` answers it as its usual ``not for trade`` failure."""


class TooManyOrders(DomainError):
    """The buyer placed ``FOOF_ORDERS_PER_HOUR`` orders in the last hour."""


def pay_id_shown(pay_id: str | None) -> str | None:
    """The pay id as the wire shows it (a hand-entered one without its mark)."""
    if pay_id and pay_id.startswith(MANUAL):
        return pay_id[len(MANUAL) :]
    return pay_id


def pay_id_verified(pay_id: str | None) -> bool:
    """Whether the stored pay id came from a verified Alipay notice (or predates the mark)."""
    return bool(pay_id) and not pay_id.startswith(MANUAL)  # type: ignore[union-attr]  # bool() narrows nothing


def _open_count(buyer: int) -> int:
    # A locking read on MySQL: the newest committed rows, whatever snapshot the transaction has.
    stmt = (
        select(func.count())
        .select_from(Order)
        .where(Order.buyer == buyer, Order.state == OPEN)
        .with_for_update(read=True)
    )
    return db.session.execute(stmt).scalar_one()


def ensure_room_for(buyer: int) -> None:
    """Refuse a new open order for ``buyer`` at the open-orders cap (inside the transaction
    that opens it). The buyer's lock row serialises every opening for them until commit, on
    both faces, so concurrent openings cannot all see the same count."""
    ratelimit.hold("orders:open", buyer)
    if _open_count(buyer) >= int(current_app.config["FOOF_MAX_OPEN_ORDERS"]):
        raise TooManyOpenOrders()


# -- shared by both faces (call inside a transaction) ------------------------------------------
def open_for(item: Item, buyer: int, mode: str = OPEN) -> Order | None:
    """Record an open order for ``item`` reserved for ``buyer`` (positive items only)."""
    if item.sold < 0:
        return None  # "want to buy" posts have no orders: they are not products
    now = clock.now()
    order = Order(
        itemid=item.itemid,
        seller=item.uuid,
        buyer=buyer,
        price=float(item.price),
        transaction_mode=mode,
        state=OPEN,
        created_at=now,
        updated_at=now,
    )
    db.session.add(order)
    db.session.flush()
    return order


# -- the secondhand face -------------------------------------------------------------------------
def _item_transition(itemid: int, expected: int, target: int, **values: Any) -> bool:
    done = db.session.execute(  # type: ignore[attr-defined]  # a CursorResult
        update(Item)
        .where(Item.itemid == itemid, Item.sold == expected)
        .values(sold=target, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if done == 1:
        after_commit(events.item_changed, itemid)
    return done == 1


def create(buyer: int, pid: Any, mode: Any) -> int:
    """Buy product ``pid``: reserve it for ``buyer`` and open an order, atomically."""
    if str(mode) not in ("0", "1"):
        raise Invalid()

    def work() -> int:
        item = get(pid)
        if item.sold != ON_SALE:
            raise ItemNotFound()
        if item.uuid == buyer:
            raise OwnProduct()
        ensure_room_for(buyer)
        per_hour = int(current_app.config["FOOF_ORDERS_PER_HOUR"])
        if ratelimit.take("orders:hour", buyer, per_hour, HOUR) is None:
            raise TooManyOrders()
        if not _item_transition(item.itemid, ON_SALE, RESERVED, to=buyer):
            raise ItemNotFound()
        return open_for(item, buyer, str(mode)).id  # type: ignore[union-attr]  # a product: never None

    return atomic(work)


def _load(order_id: Any) -> Order:
    try:
        order_id = parse_id(order_id)
    except Invalid:
        raise OrderNotChangeable() from None
    order = db.session.get(Order, order_id)
    if order is None:
        raise OrderNotChangeable()
    return order


def _update_open(caller: int, order_id: Any, **values: Any) -> Order:
    """Change an open order the caller is buyer or seller of (conditional on it being open)."""
    order = _load(order_id)
    if caller not in (order.buyer, order.seller):
        raise NotOwner()
    done = db.session.execute(  # type: ignore[attr-defined]  # a CursorResult
        update(Order)
        .where(Order.id == order.id, Order.state == OPEN)
        .values(updated_at=clock.now(), **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if done != 1:
        raise OrderNotChangeable()
    return order


def set_number(caller: int, order_id: Any, kind: Any, number: Any) -> None:
    """Set the express number (kind 2, buyer or seller, while the order is open) or enter a
    pay id by hand (kind 1).

    Who may enter a pay id: only the order's **seller**, confirming a payment received
    outside Alipay (the buyer gets :class:`NotOwner`: a buyer's claim to have paid is no
    proof). Only while the order is open and has no pay id at all (else
    :class:`OrderNotChangeable`): a pay id recorded from a verified Alipay notice is final,
    and a hand-entered one is not corrected by hand either. It is stored with the
    :data:`MANUAL` mark (unverified), which a verified notice may later replace.
    """
    if str(kind) not in ("1", "2") or not isinstance(number, str) or not NUMBER_RE.match(number):
        raise Invalid()
    if str(kind) == "2":
        atomic(_update_open, caller, order_id, express_number=number)
        return
    if len(number) > 64 - len(MANUAL):
        raise Invalid()

    def work() -> None:
        order = _load(order_id)
        if caller != order.seller:
            raise NotOwner()
        done = db.session.execute(  # type: ignore[attr-defined]  # a CursorResult
            update(Order)
            .where(Order.id == order.id, Order.state == OPEN, Order.pay_id.is_(None))
            .values(pay_id=MANUAL + number, updated_at=clock.now())
            .execution_options(synchronize_session=False)
        ).rowcount
        if done != 1:
            raise OrderNotChangeable()

    atomic(work)


def change_state(caller: int, order_id: Any, state: Any) -> None:
    """Cancel (``"1"``: the product goes back on sale) or complete (``"2"``) an open order."""
    state = str(state)
    if state not in (CANCELLED, COMPLETED):
        raise Invalid()

    def work() -> None:
        order = _update_open(caller, order_id, state=state)
        if state == CANCELLED:
            _item_transition(order.itemid, RESERVED, ON_SALE, to=0)
        else:
            _item_transition(order.itemid, RESERVED, SOLD)

    atomic(work)


def bought_by(uuid: int) -> Sequence[Order]:
    return db.session.execute(select(Order).where(Order.buyer == uuid).order_by(Order.id.desc())).scalars().all()


def sold_by(uuid: int) -> Sequence[Order]:
    return db.session.execute(select(Order).where(Order.seller == uuid).order_by(Order.id.desc())).scalars().all()


def involving(uuid: int) -> Sequence[Order]:
    return db.session.execute(select(Order).where(or_(Order.buyer == uuid, Order.seller == uuid))).scalars().all()


def get_order(order_id: Any) -> Order:
    return _load(order_id)


def record_payment(order_id: Any, trade_no: str, amount: str | float) -> bool:
    """Store Alipay's ``trade_no`` as the pay id, once; True if this call recorded it.

    Idempotent: a notice for an order that already carries this trade number changes
    nothing. The amount must equal the order's price to the cent. A verified pay id is final
    (another trade number is refused); a hand-entered (unverified) one is replaced.
    """

    def work() -> bool:
        order = _load(order_id)
        if round(float(order.price) * 100) != round(float(amount) * 100):
            raise Invalid()
        if order.pay_id == trade_no:
            return False
        if order.state != OPEN or pay_id_verified(order.pay_id):
            raise OrderNotChangeable()
        unverified = Order.pay_id.is_(None) if order.pay_id is None else Order.pay_id == order.pay_id
        done = db.session.execute(  # type: ignore[attr-defined]  # a CursorResult
            update(Order)
            .where(Order.id == order.id, Order.state == OPEN, unverified)
            .values(pay_id=trade_no, updated_at=clock.now())
            .execution_options(synchronize_session=False)
        ).rowcount
        if done != 1:
            raise OrderNotChangeable()
        if order.pay_id is not None:
            log.warning(
                "order %s: the hand-entered pay id %r was replaced by Alipay's verified %r",
                order.id,
                pay_id_shown(order.pay_id),
                trade_no,
            )
        return True

    return atomic(work)
