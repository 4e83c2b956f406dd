"""``/alipay``: the signed app-pay ``orderString`` and Alipay's asynchronous notices (seed 004).

The rules (what is signed, what a notice must prove) live in :mod:`foof.domain.payments`;
these views only parse, authenticate and render.
"""

from flask import Blueprint, Response, request

from foof.domain import payments
from foof.rest import auth
from foof.rest.envelope import Refused, handled
from foof.rest.wire import payload

bp = Blueprint("rest_alipay", __name__)
TEXT_TYPE = "text/plain; charset=utf-8"

#: Payment refusals that have no entry in the envelope's error table (state 5002).
REFUSALS = {
    payments.NotConfigured: "支付未配置",
    payments.NotPayable: "订单金额不支持支付宝支付",
}


@bp.post("/alipay/info")
@handled
def info():
    user = auth.current_user()
    # Only the order id is read: amount and subject come from the database (docs/rest-api.md).
    order_id = payload().get("out_trade_no")
    try:
        return {"orderString": payments.order_string(user.uuid, order_id)}
    except tuple(REFUSALS) as exc:
        raise Refused(5002, REFUSALS[type(exc)]) from None


@bp.post("/alipay/response")
def notice():
    """Alipay retries until it reads exactly ``success``; anything else means "try again"."""
    fields = request.form.to_dict(flat=False)
    # A repeated field would make the signed content ambiguous: refuse the notice.
    single = all(len(values) == 1 for values in fields.values())
    done = single and payments.handle_notice({k: v[0] for k, v in fields.items()})
    return Response("success" if done else "failure", content_type=TEXT_TYPE)
