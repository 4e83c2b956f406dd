"""The secondhand face's one renderer: ``{"state","message","data"}`` and its error table.

Handled errors keep HTTP 200 with the original codes (docs/rest-api.md), except "not logged in"
(401) and "not allowed" (403). Ids are zero-padded strings as the original's database did,
prices floats with a decimal point, datetimes ``2022-12-11T13:51:40.000+00:00``.
"""

import functools
import json
import math

from flask import Response

from foof.domain import orders, profiles, trades
from foof.domain.errors import (
    AccountDisabled,
    BadToken,
    DomainError,
    Invalid,
    ItemNotFound,
    NotAnImage,
    NotForTrade,
    NotOwner,
    StorageRejected,
    TooFrequent,
    UserNotFound,
    WrongPassword,
)

JSON_TYPE = "application/json; charset=utf-8"

#: domain error → (state, message, HTTP status). Looked up along the exception's MRO.
ERRORS = {
    profiles.LoginTaken: (4000, "用户名已经被占用", 200),
    UserNotFound: (4001, "用户数据不存在", 200),
    WrongPassword: (4002, "密码验证失败", 200),
    TooFrequent: (4002, "尝试次数过多，请15分钟后再试", 200),
    # A new state: the password was right but staff disabled the account.
    AccountDisabled: (4009, "账号已被停用，请联系管理员", 200),
    BadToken: (4003, "用户未登录", 401),
    NotOwner: (4004, "无权操作", 403),
    profiles.PhoneInUse: (4005, "手机号已被其他账号使用", 200),
    orders.OwnProduct: (4005, "不能购买自己发布的商品", 200),
    NotAnImage: (6002, "上传文件类型不支持！", 200),
    Invalid: (4005, "输入数据不合法", 200),
    ItemNotFound: (4006, "商品不存在！", 200),
    NotForTrade: (4006, "商品不存在！", 200),
    trades.NotReserved: (4006, "商品不存在！", 200),
    orders.OrderNotChangeable: (4007, "订单状态不支持修改", 200),
    # Issue #11: one buyer may not take the market off sale. A new state (the table had none
    # for "limit reached"); HTTP 200 like every handled refusal.
    orders.TooManyOpenOrders: (4008, "未完成的订单过多，请先完成或取消已有订单", 200),
    orders.TooManyOrders: (4008, "下单过于频繁，请一小时后再试", 200),
    StorageRejected: (5001, "更新失败，请联系系统管理员", 200),
}


class Refused(Exception):
    """A REST-only refusal with an explicit state (uploads 6000-6004, payments 5002)."""

    def __init__(self, state, message, status=200):
        super().__init__(message)
        self.state, self.message, self.status = state, message, status


def user_id(uuid):
    return None if uuid is None else f"{int(uuid):010d}"


def long_id(key):
    return None if key is None else f"{int(key):020d}"


def category_id(kind):
    return None if kind is None else f"{int(kind):05d}"


def price(value):
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def moment(value):
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+00:00"


def respond(data=None, state=200, message=None, status=200):
    body = json.dumps({"state": state, "message": message, "data": data}, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status=status, content_type=JSON_TYPE)


def refusal(exc):
    if isinstance(exc, Refused):
        return respond(None, exc.state, exc.message, exc.status)
    for klass in type(exc).__mro__:
        if klass in ERRORS:
            state, message, status = ERRORS[klass]
            return respond(None, state, message, status)
    raise exc


def handled(view):
    """Render a view's return value in the envelope and its domain errors as refusals."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        try:
            result = view(*args, **kwargs)
        except (DomainError, Refused) as exc:
            return refusal(exc)
        return result if isinstance(result, Response) else respond(result)

    return wrapper
