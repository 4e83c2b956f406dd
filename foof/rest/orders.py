"""``/orders``: buy, my purchases and sales, pay id / express number, cancel or complete."""

from flask import Blueprint, request

from foof.domain import orders, profiles
from foof.extensions import db
from foof.models import Item
from foof.rest import auth
from foof.rest.envelope import handled, long_id, moment, price, user_id

bp = Blueprint("rest_orders", __name__)


def order_entry(order):
    item = db.session.get(Item, order.itemid)
    return {
        "id": long_id(order.id),
        "seller": user_id(order.seller),
        "sellerAlias": profiles.display_name(order.seller),
        "buyer": user_id(order.buyer),
        "buyerAlias": profiles.display_name(order.buyer),
        "pid": long_id(order.itemid),
        "price": price(order.price),
        "transactionMode": order.transaction_mode,
        "payId": orders.pay_id_shown(order.pay_id),
        "expressNumber": order.express_number,
        "state": order.state,
        "createTime": moment(order.created_at),
        "updateTime": moment(order.updated_at),
        "pname": item.title if item else None,
    }


@bp.post("/orders/<key>")
@handled
def create_or_update(key):
    """``?trans=0|1`` buys product ``key``; ``?type=1|2&number=…`` updates order ``key``.

    Buying is capped per buyer (open orders, orders per hour: state 4008); a pay id (type 1)
    is entered by the seller only (see :func:`foof.domain.orders.set_number`)."""
    user = auth.current_user()
    args = request.args
    if "type" in args and "number" in args:
        orders.set_number(user.uuid, key, args["type"], args["number"])
        return None
    orders.create(user.uuid, key, args.get("trans", "0"))
    return None


@bp.get("/orders/buy")
@handled
def bought():
    return [order_entry(o) for o in orders.bought_by(auth.current_user().uuid)]


@bp.get("/orders/sell")
@handled
def sold():
    return [order_entry(o) for o in orders.sold_by(auth.current_user().uuid)]


@bp.post("/orders/state/<order_id>")
@handled
def change_state(order_id):
    user = auth.current_user()
    orders.change_state(user.uuid, order_id, request.args.get("state"))
    return None
