"""marshmallow schemas of the secondhand face: request bodies and the envelope's ``data``.

They describe the wire (seed 004 and docs/rest-api.md) for the OpenAPI document and let tests
check real replies against it; the views themselves read bodies with
:func:`foof.rest.wire.payload` and leave validation to the domain, which is where the rules
(and their 4005 refusals) live. Request schemas ``EXCLUDE`` unknown keys because the server
ignores them; response schemas ``RAISE`` because a reply has exactly these keys.
"""

from marshmallow import EXCLUDE, Schema, fields
from marshmallow.validate import Equal

#: docs/rest-api.md's table of handled states (HTTP 200 unless noted).
STATES = {
    200: "成功",
    4000: "用户名已经被占用 (username taken)",
    4001: "用户数据不存在 (user missing or deactivated)",
    4002: "密码验证失败 (wrong password; also too many attempts)",
    4003: "用户未登录 (not logged in) — HTTP 401",
    4004: "无权操作 (not your product / order; also 跨站请求被拒绝 / 请使用 JSON 请求体: a cookie-authenticated "
    "unsafe request from a foreign Origin/Referer or with a form body) — HTTP 403",
    4005: "输入数据不合法 (invalid input)",
    4006: "商品不存在！ (product missing or not in a state that allows this)",
    4007: "订单状态不支持修改 (order missing or not in a state that allows this)",
    4008: "未完成的订单过多 / 下单过于频繁 (the buyer's open-orders cap or orders-per-hour limit)",
    4009: "账号已被停用，请联系管理员 (the account is disabled by staff)",
    4010: "你已举报过该对象，请等待处理 (an open report by you on this target exists)",
    4011: "举报过于频繁，请稍后再试 (over FOOF_REPORTS_PER_HOUR reports in an hour)",
    5000: "注册失败，请联系系统管理员 (insert failed)",
    5001: "更新失败，请联系系统管理员 (update failed)",
    5002: "支付未配置 / payment refused",
    6000: "上传文件为空！ (upload empty)",
    6001: "上传文件过大！ (body over its limit: FOOF_MAX_PHOTO_UPLOAD_BYTES, default 10 MiB, for multipart uploads; FOOF_MAX_UPLOAD_BYTES, 1 MiB, for any other body)",
    6002: "上传文件类型不支持！ (not an image)",
    6003: "upload state error",
    6004: "upload I/O error",
}


def _text(description=None, **kwargs):
    return fields.String(allow_none=True, metadata={"description": description} if description else {}, **kwargs)


def _id(width, description):
    return fields.String(
        allow_none=True,
        metadata={"description": f"{description}, zero-padded to {width} digits", "example": "1".zfill(width)},
    )


def _moment():
    return fields.String(allow_none=True, metadata={"format": "date-time", "example": "2022-12-11T13:51:40.000+00:00"})


def _number_or_text(description):
    return fields.Raw(
        required=False, metadata={"description": description, "oneOf": [{"type": "number"}, {"type": "string"}]}
    )


class Request(Schema):
    class Meta:
        unknown = EXCLUDE


# -- request bodies (JSON or form) ---------------------------------------------------------------
class RegisterRequest(Request):
    username = fields.String(
        required=True,
        metadata={
            "description": "3-64 of A-Z a-z 0-9 _ . @ -, not all digits (a name that could be a phone number is refused)"
        },
    )
    password = fields.String(required=True, metadata={"description": "6-128 characters"})
    resetQuestion = fields.String(required=True)
    resetAnswer = fields.String(required=True)


class LoginRequest(Request):
    username = fields.String(required=True)
    password = fields.String(required=True)


class PasswordChangeRequest(Request):
    oldPassword = fields.String(required=True)
    newPassword = fields.String(required=True)


class PasswordResetRequest(Request):
    username = fields.String(required=True)
    resetAnswer = fields.String(required=True)
    newPassword = fields.String(required=True)


class DetailUpdateRequest(Request):
    """Only the keys sent change; ``role``, ``identified``, ``studentCard`` and ``avatar`` are
    ignored (the server and the upload routes decide those)."""

    studentNumber = _text()
    phoneNumber = _text("1-20 digits, optional leading +; a number other than the account's own needs verifyCode")
    verifyCode = _text(
        "the SMS code POST /user/requirecode sent to phoneNumber (10 minutes, single use, "
        "5 wrong tries burn it); without a valid one: state 4005, nothing changes"
    )
    email = _text()
    alias = _text()
    description = _text()


class ProductRequest(Request):
    name = fields.String(metadata={"description": "1-255 characters; required when adding"})
    category = _number_or_text('category id, padded ("00012") or not')
    description = _text()
    location = _text()
    price = _number_or_text('number ≥ 0, or its text ("4"); required when adding')
    tags = _text("comma-separated")


class AlipayInfoRequest(Request):
    out_trade_no = _number_or_text("order id, padded or not")
    total_amount = fields.String(metadata={"description": "ignored: the amount is the order's price"})
    subject = fields.String(metadata={"description": "ignored: the subject is the product's title"})


class ReportRequest(Request):
    kind = fields.String(required=True, metadata={"enum": ["product", "user"]})
    id = _number_or_text("the product id or the user id, padded or not")
    reason = fields.String(
        required=True,
        metadata={"enum": ["prohibited", "fake", "fraud", "harassment", "spam", "other"]},
    )
    note = _text("free text, at most 255 characters")


class Upload(Request):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


# -- the envelope's data -------------------------------------------------------------------------
class LoginData(Schema):
    """The original returned its user entity with every field but ``id`` and ``username`` null."""

    id = _id(10, "user id")
    username = _text()
    password = _text("always null")
    resetQuestion = _text("always null")
    resetAnswer = _text("always null")
    state = _text("always null")
    createTime = _text("always null")
    updateTime = _text("always null")
    salt = _text("always null")


class UserDetail(Schema):
    id = _id(10, "user id")
    studentNumber = _text()
    studentCard = _text("/upload/student/… (served to its owner only)")
    role = _text()
    identified = _text('"1" for a verified student (campus mail or an approved student card), else "0"')
    avatar = _text('"/" when none')
    phoneNumber = _text()
    email = _text()
    alias = _text()
    description = _text()
    createTime = _moment()
    updateTime = _moment()
    studentCardState = _text('the student card\'s review: "0" pending, "1" approved, "2" rejected; null without a card')
    studentCardReason = _text('why staff rejected the card (state "2"), else null')


class ProductListEntry(Schema):
    """The list shape exactly as the seed shows it: seller, category, tags, state, times null."""

    id = _id(20, "product id")
    seller = _text("always null in lists")
    name = _text()
    category = _text("always null in lists")
    description = _text()
    location = _text()
    price = fields.Float(allow_none=True, metadata={"example": 6.0})
    img = _text('first picture, "/" when none')
    tags = _text("always null in lists")
    state = _text("always null in lists")
    createTime = _text("always null in lists")
    updateTime = _text("always null in lists")


class ProductDetail(Schema):
    id = _id(20, "product id")
    seller = _id(10, "seller's user id")
    sellerAlias = _text()
    sellerAvatar = _text()
    sellerPhone = _text(
        "only for a logged-in viewer, and only if the seller published it through the secondhand profile; else null"
    )
    name = _text()
    category = _id(5, "category id")
    description = _text()
    location = _text()
    price = fields.Float(allow_none=True, metadata={"example": 6.0})
    img = _text('first picture, "/" when none')
    tags = _text()
    state = _text('"0" on sale, "1" sold or reserved (a taken-down product answers 4006)')
    createTime = _moment()
    updateTime = _moment()


class OrderEntry(Schema):
    id = _id(20, "order id")
    seller = _id(10, "seller's user id")
    sellerAlias = _text()
    buyer = _id(10, "buyer's user id")
    buyerAlias = _text()
    pid = _id(20, "product id")
    price = fields.Float(allow_none=True, metadata={"example": 6.0})
    transactionMode = _text('"0" or "1"')
    payId = _text(
        "Alipay trade_no from a verified notice (final), or the number the seller entered with "
        "type=1 (unverified; a verified notice replaces it)"
    )
    expressNumber = _text()
    state = _text('"0" open, "1" cancelled, "2" completed')
    createTime = _moment()
    updateTime = _moment()
    pname = _text("product name")


class OrderString(Schema):
    orderString = fields.String(
        required=True, metadata={"description": "signed alipay.trade.app.pay request for the app's Alipay SDK"}
    )


# -- the envelope ----------------------------------------------------------------------------------
class Envelope(Schema):
    """Every secondhand reply: ``{"state","message","data"}`` in that order, null written."""

    state = fields.Integer(
        required=True,
        metadata={"enum": sorted(STATES), "description": "; ".join(f"{code} {text}" for code, text in STATES.items())},
    )
    message = fields.String(required=True, allow_none=True, metadata={"description": "null on success"})
    data = fields.Raw(required=True, allow_none=True)


def envelope_of(name, data_field):
    """An :class:`Envelope` whose ``data`` is ``data_field`` (one named schema per shape)."""
    return type(name, (Envelope,), {"data": data_field, "__doc__": Envelope.__doc__})


EmptyEnvelope = envelope_of(
    "EmptyEnvelope",
    fields.Raw(required=True, allow_none=True, validate=Equal(None), metadata={"nullable": True, "enum": [None]}),
)
TextEnvelope = envelope_of("TextEnvelope", fields.String(required=True, allow_none=True))
LoginEnvelope = envelope_of("LoginEnvelope", fields.Nested(LoginData, required=True, allow_none=True))
UserDetailEnvelope = envelope_of("UserDetailEnvelope", fields.Nested(UserDetail, required=True, allow_none=True))
ProductListEnvelope = envelope_of(
    "ProductListEnvelope", fields.List(fields.Nested(ProductListEntry), required=True, allow_none=True)
)
ProductDetailEnvelope = envelope_of(
    "ProductDetailEnvelope", fields.Nested(ProductDetail, required=True, allow_none=True)
)
OrderListEnvelope = envelope_of(
    "OrderListEnvelope", fields.List(fields.Nested(OrderEntry), required=True, allow_none=True)
)
OrderStringEnvelope = envelope_of("OrderStringEnvelope", fields.Nested(OrderString, required=True, allow_none=True))

#: Every named schema, registered as an OpenAPI component under its class name.
COMPONENTS = (
    RegisterRequest,
    LoginRequest,
    PasswordChangeRequest,
    PasswordResetRequest,
    DetailUpdateRequest,
    ProductRequest,
    AlipayInfoRequest,
    ReportRequest,
    Upload,
    LoginData,
    UserDetail,
    ProductListEntry,
    ProductDetail,
    OrderEntry,
    OrderString,
    Envelope,
    EmptyEnvelope,
    TextEnvelope,
    LoginEnvelope,
    UserDetailEnvelope,
    ProductListEnvelope,
    ProductDetailEnvelope,
    OrderListEnvelope,
    OrderStringEnvelope,
)
