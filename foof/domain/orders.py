"""Orders (CONTRACT 2 and 3): one row per reservation, driving ``items.sold``/``items.to``.

The same transitions serve both faces: the legacy ``/item/order``, ``/item/trade`` and
``/item/reset`` open, complete and cancel an order through :mod:`foof.domain.trades`, and the
secondhand ``/orders`` routes call the functions here. Every transition is a conditional
update on the order *and* on the item in one transaction, so of any number of racing
requests exactly one wins.
"""
import re

from sqlalchemy import or_, select, update

from foof.domain import clock, events
from foof.domain.errors import DomainError, Invalid, ItemNotFound, NotOwner
from foof.domain.listings import ON_SALE, RESERVED, SOLD, get, parse_id
from foof.domain.tx import after_commit, atomic
from foof.extensions import db
from foof.models import Item, Order

OPEN, CANCELLED, COMPLETED = "0", "1", "2"
NUMBER_RE = re.compile(r"^[0-9A-Za-z_-]{1,64}$")


class OrderNotChangeable(DomainError):
    """No such order, or not in a state that allows this (4007)."""


class OwnProduct(DomainError):
    """A seller trying to buy their own product."""


# -- shared by both faces (call inside a transaction) ------------------------------------------
def open_for(item, buyer, mode=OPEN):
    """Record an open order for ``item`` reserved for ``buyer`` (positive items only)."""
    if item.sold < 0:
        return None  # "want to buy" posts have no orders: they are not products
    now = clock.now()
    order = Order(itemid=item.itemid, seller=item.uuid, buyer=buyer, price=float(item.price),
                  transaction_mode=mode, state=OPEN, created_at=now, updated_at=now)
    db.session.add(order)
    db.session.flush()
    return order


def close_for(itemid, state):
    """Move the item's open order (if any) to ``state``."""
    db.session.execute(
        update(Order)
        .where(Order.itemid == itemid, Order.state == OPEN)
        .values(state=state, updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )


# -- the secondhand face -------------------------------------------------------------------------
def _item_transition(itemid, expected, target, **values):
    done = db.session.execute(
        update(Item)
        .where(Item.itemid == itemid, Item.sold == expected)
        .values(sold=target, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if done == 1:
        after_commit(events.item_changed, itemid)
    return done == 1


def create(buyer, pid, mode):
    """Buy product ``pid``: reserve it for ``buyer`` and open an order, atomically."""
    if str(mode) not in ("0", "1"):
        raise Invalid()

    def work():
        item = get(pid)
        if item.sold != ON_SALE:
            raise ItemNotFound()
        if item.uuid == buyer:
            raise OwnProduct()
        if not _item_transition(item.itemid, ON_SALE, RESERVED, to=buyer):
            raise ItemNotFound()
        return open_for(item, buyer, str(mode)).id

    return atomic(work)


def _load(order_id):
    try:
        order_id = parse_id(order_id)
    except Invalid:
        raise OrderNotChangeable() from None
    order = db.session.get(Order, order_id)
    if order is None:
        raise OrderNotChangeable()
    return order


def _update_open(caller, order_id, **values):
    """Change an open order the caller is buyer or seller of (conditional on it being open)."""
    order = _load(order_id)
    if caller not in (order.buyer, order.seller):
        raise NotOwner()
    done = db.session.execute(
        update(Order).where(Order.id == order.id, Order.state == OPEN)
        .values(updated_at=clock.now(), **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if done != 1:
        raise OrderNotChangeable()
    return order


def set_number(caller, order_id, kind, number):
    """Set the pay id (kind 1) or express number (kind 2) while the order is open."""
    if str(kind) not in ("1", "2") or not isinstance(number, str) or not NUMBER_RE.match(number):
        raise Invalid()
    column = "pay_id" if str(kind) == "1" else "express_number"

    atomic(_update_open, caller, order_id, **{column: number})


def change_state(caller, order_id, state):
    """Cancel (``"1"``: the product goes back on sale) or complete (``"2"``) an open order."""
    state = str(state)
    if state not in (CANCELLED, COMPLETED):
        raise Invalid()

    def work():
        order = _update_open(caller, order_id, state=state)
        if state == CANCELLED:
            _item_transition(order.itemid, RESERVED, ON_SALE, to=0)
        else:
            _item_transition(order.itemid, RESERVED, SOLD)

    atomic(work)


def bought_by(uuid):
    return db.session.execute(
        select(Order).where(Order.buyer == uuid).order_by(Order.id.desc())).scalars().all()


def sold_by(uuid):
    return db.session.execute(
        select(Order).where(Order.seller == uuid).order_by(Order.id.desc())).scalars().all()


def involving(uuid):
    return db.session.execute(
        select(Order).where(or_(Order.buyer == uuid, Order.seller == uuid))).scalars().all()


def get_order(order_id):
    return _load(order_id)


def record_payment(order_id, trade_no, amount):
    """Store Alipay's ``trade_no`` as the pay id, once; True if this call recorded it.

    Idempotent: a notice for an order that already carries this trade number changes
    nothing. The amount must equal the order's price to the cent.
    """

    def work():
        order = _load(order_id)
        if round(float(order.price) * 100) != round(float(amount) * 100):
            raise Invalid()
        if order.pay_id == trade_no:
            return False
        if order.state != OPEN or order.pay_id:
            raise OrderNotChangeable()
        done = db.session.execute(
            update(Order).where(Order.id == order.id, Order.state == OPEN, Order.pay_id.is_(None))
            .values(pay_id=trade_no, updated_at=clock.now())
            .execution_options(synchronize_session=False)
        ).rowcount
        if done != 1:
            raise OrderNotChangeable()
        return True

    return atomic(work)
