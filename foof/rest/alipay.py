"""``/alipay``: placeholder until the payments module lands (answers 5002: not configured)."""
from flask import Blueprint

from foof.rest import auth
from foof.rest.envelope import Refused, handled

bp = Blueprint("rest_alipay", __name__)


@bp.post("/alipay/info")
@handled
def info():
    auth.current_user()
    raise Refused(5002, "支付未配置")
