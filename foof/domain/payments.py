"""Alipay app payments (docs/rest-api.md §9): the signed ``orderString`` and the async notices.

Alipay's RSA2 rules, done with plain ``cryptography`` (no SDK at run time):

* **Signing a request** – take every parameter except ``sign`` whose value is not empty, sort
  by name, join ``name=value`` with ``&`` *without* URL-encoding, sign the UTF-8 bytes with
  SHA256withRSA (PKCS#1 v1.5) and base64 the result. The string handed to the app is the same
  parameters with each value URL-encoded (``quote_plus``), ``sign`` appended last.
* **Verifying a notice** – drop ``sign`` and ``sign_type``, sort, join the decoded values the
  same way and check ``sign`` against *Alipay's* public key (never ours).

Everything that matters for money comes from the database, never from the client: the
amount is the order's price, the subject the product's title, ``out_trade_no`` the order id.
A notice is only believed once its signature, ``app_id``, order and amount all check out, and
``trade_no`` is recorded by :func:`foof.domain.orders.record_payment`, which is idempotent, so
Alipay may retry a notice as often as it likes.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

from flask import current_app

from foof.domain import clock, orders
from foof.domain.errors import DomainError, Invalid, NotOwner
from foof.extensions import db

if TYPE_CHECKING:  # cryptography costs ~8 MB of RSS: imported when Alipay is first used
    from cryptography.hazmat.primitives.asymmetric import rsa
from foof.models import Item, Order

log = logging.getLogger(__name__)

METHOD = "alipay.trade.app.pay"
PRODUCT_CODE = "QUICK_MSECURITY_PAY"  # Alipay's product code for in-app payments
PAID = ("TRADE_SUCCESS", "TRADE_FINISHED")
#: Statuses that are acknowledged without changing anything (nothing to record).
UNPAID = ("WAIT_BUYER_PAY", "TRADE_CLOSED")
REQUIRED = ("sign", "app_id", "out_trade_no", "total_amount", "trade_status", "trade_no")
# Alipay reads ``timestamp`` as Beijing time (UTC+8, no daylight saving); our clock is UTC.
BEIJING = timedelta(hours=8)
MIN_AMOUNT, MAX_AMOUNT = Decimal("0.01"), Decimal("100000000.00")  # Alipay's accepted range
AMOUNT_RE = re.compile(r"^[0-9]{1,9}(\.[0-9]{1,2})?\Z")
# Alipay: "不可使用特殊字符，如 /，=，& 等" in a subject; at most 256 characters.
SUBJECT_FORBIDDEN = re.compile(r"[/=&\s]+")
SUBJECT_LIMIT = 256
_PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class NotConfigured(DomainError):
    """No app id or keys, or keys that cannot be read (the REST face answers 5002)."""


class NotPayable(DomainError):
    """The order's amount is outside what Alipay accepts (5002)."""


@dataclass(frozen=True)
class Settings:
    app_id: str
    private_key: rsa.RSAPrivateKey
    alipay_public_key: rsa.RSAPublicKey
    notify_url: str


# -- configuration -------------------------------------------------------------------------------
def _key_text(value: str) -> str:
    """PEM text, bare base64 (as Alipay's key tool prints keys) or a path to a file of either."""
    value = value.strip()
    if "-----BEGIN" not in value and "\n" not in value:
        path = value if os.path.isabs(value) else os.path.join(_PROJECT_ROOT, value)
        if os.path.isfile(path):
            with open(path, encoding="ascii") as fh:
                value = fh.read().strip()
        elif value.lower().endswith((".pem", ".key", ".txt")):
            raise ValueError(f"no key file at {path}")
    # Environment variables often carry PEM with literal "\n" instead of line breaks.
    return value.replace("\\n", "\n") if "\n" not in value else value


def _load_key(value: str, private: bool) -> rsa.RSAPrivateKey | rsa.RSAPublicKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    text = _key_text(value)
    loader: Any  # a private or a public key loader
    if "-----BEGIN" in text:
        data = text.encode("ascii")
        loader = serialization.load_pem_private_key if private else serialization.load_pem_public_key
    else:
        data = base64.b64decode("".join(text.split()), validate=True)
        loader = serialization.load_der_private_key if private else serialization.load_der_public_key
    key = loader(data, password=None) if private else loader(data)
    wanted = rsa.RSAPrivateKey if private else rsa.RSAPublicKey
    if not isinstance(key, wanted):
        raise TypeError("not an RSA key")
    return key


def settings() -> Settings:
    """The Alipay settings of this app, keys parsed once and cached per configured value."""
    cfg = current_app.config
    app_id = str(cfg.get("FOOF_ALIPAY_APP_ID") or "").strip()
    private, public = cfg.get("FOOF_ALIPAY_PRIVATE_KEY") or "", cfg.get("FOOF_ALIPAY_PUBLIC_KEY") or ""
    if not app_id or not str(private).strip() or not str(public).strip():
        raise NotConfigured()
    notify_url = (cfg.get("FOOF_ALIPAY_NOTIFY_URL") or "").strip()
    if not notify_url:
        notify_url = str(cfg.get("FOOF_PUBLIC_URL") or "").rstrip("/") + "/alipay/response"
    from cryptography.exceptions import UnsupportedAlgorithm

    cache = current_app.extensions.setdefault("foof.alipay", {})
    raw = (app_id, str(private), str(public), notify_url)
    if raw not in cache:
        keys: list[Any] = []
        for setting, value, private_key in (
            ("FOOF_ALIPAY_PRIVATE_KEY", private, True),
            ("FOOF_ALIPAY_PUBLIC_KEY", public, False),
        ):
            try:
                keys.append(_load_key(str(value), private_key))
            except (ValueError, TypeError, binascii.Error, UnsupportedAlgorithm, OSError, UnicodeError) as exc:
                # Loud in the log, quiet on the wire: the client only learns "not configured".
                log.error("%s is unusable (%s): %s", setting, type(exc).__name__, exc)
                raise NotConfigured() from None
        cache.clear()
        cache[raw] = Settings(app_id, keys[0], keys[1], notify_url)
    return cache[raw]


# -- RSA2 ----------------------------------------------------------------------------------------
def signing_content(params: Mapping[str, Any], skip_empty: bool = True) -> str:
    """``k=v&…`` sorted by name, unencoded, without ``sign`` (and empty values when asked)."""
    return "&".join(
        f"{key}={value}"
        for key, value in sorted(params.items())
        if key != "sign" and not (skip_empty and value in (None, ""))
    )


def sign(content: str, private_key: rsa.RSAPrivateKey) -> str:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    signature = private_key.sign(content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def verify(content: str, signature: object, public_key: rsa.RSAPublicKey) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        # A "+" that reached us as a space (an unencoded form value) is still a "+".
        text = str(signature).replace(" ", "+").replace("\r", "").replace("\n", "")
        raw = base64.b64decode(text, validate=True)
        public_key.verify(raw, content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def signed_string(params: Mapping[str, Any], private_key: rsa.RSAPrivateKey) -> str:
    """The final request string: values URL-encoded, ``sign`` last."""
    params = {k: v for k, v in params.items() if k != "sign" and v not in (None, "")}
    signature = sign(signing_content(params), private_key)
    pairs = sorted(params.items()) + [("sign", signature)]
    return "&".join(f"{key}={quote_plus(str(value))}" for key, value in pairs)


# -- the app-pay order string --------------------------------------------------------------------
def amount_of(order: Order) -> str:
    amount = Decimal(f"{float(order.price):.2f}")
    if not MIN_AMOUNT <= amount <= MAX_AMOUNT:
        raise NotPayable()
    return str(amount)


def subject_of(order: Order) -> str:
    item = db.session.get(Item, order.itemid)
    title = SUBJECT_FORBIDDEN.sub(" ", item.title if item else "").strip()[:SUBJECT_LIMIT].strip()
    return title or f"订单{order.id}"


def app_pay_params(cfg: Settings, order: Order, timestamp: datetime) -> dict[str, str]:
    """The request parameters of ``alipay.trade.app.pay`` for ``order`` (before signing)."""
    biz = {
        "out_trade_no": f"{order.id:020d}",
        "total_amount": amount_of(order),
        "subject": subject_of(order),
        "product_code": PRODUCT_CODE,
    }
    return {
        "app_id": cfg.app_id,
        "method": METHOD,
        "format": "JSON",
        "charset": "utf-8",
        "sign_type": "RSA2",
        "timestamp": timestamp.strftime("%Y-%m-%d %H:%M:%S"),
        "version": "1.0",
        "notify_url": cfg.notify_url,
        # Compact and raw UTF-8, as Alipay's own SDK sends it (the seed shows %E5%A4%A7…).
        "biz_content": json.dumps(biz, ensure_ascii=False, separators=(",", ":")),
    }


def order_string(buyer: int, order_id: Any) -> str:
    """The signed ``orderString`` the buyer's app hands to the Alipay SDK."""
    if order_id is None or order_id == "" or isinstance(order_id, (dict, list, bool)):
        raise Invalid()
    cfg = settings()
    order = orders.get_order(order_id)
    if order.buyer != buyer:
        raise NotOwner()
    if order.state != orders.OPEN or order.pay_id:
        raise orders.OrderNotChangeable()
    params = app_pay_params(cfg, order, clock.now() + BEIJING)
    return signed_string(params, cfg.private_key)


# -- asynchronous notices ------------------------------------------------------------------------
def _signed_by_alipay(notice: Mapping[str, Any], public_key: rsa.RSAPublicKey) -> bool:
    fields = {k: v for k, v in notice.items() if k not in ("sign", "sign_type")}
    if verify(signing_content(fields, skip_empty=False), notice["sign"], public_key):
        return True
    # Alipay's documentation keeps empty values in the content; some SDKs drop them. Both
    # contents are covered by the same signature, so trying the other one is no weaker.
    if any(v == "" for v in fields.values()):
        return verify(signing_content(fields), notice["sign"], public_key)
    return False


def _record(order_id: int, trade_no: str, amount: str) -> bool:
    """:func:`orders.record_payment`, where losing a race to the *same* notice is a replay."""
    try:
        return orders.record_payment(order_id, trade_no, amount)
    except orders.OrderNotChangeable:
        # Alipay may deliver one notice twice at once: the loser of the conditional update
        # sees the winner's trade_no and answers "success" like any other replay.
        db.session.rollback()
        if orders.get_order(order_id).pay_id != trade_no:
            raise
        return False


def handle_notice(notice: Mapping[str, Any]) -> bool:
    """Process one notice (a ``{name: value}`` dict); True when it was verified and handled.

    True means "tell Alipay ``success``": the payment is recorded (or already was, for a
    replay), or the trade status needs nothing from us. Anything unverifiable is False and
    changes nothing, so Alipay retries and an operator can look at the log.
    """

    def refuse(reason: str) -> bool:
        log.warning("Alipay notice refused (%s) for out_trade_no=%r", reason, notice.get("out_trade_no"))
        return False

    try:
        cfg = settings()
    except NotConfigured:
        return refuse("payments not configured")
    if any(not isinstance(notice.get(k), str) or not notice.get(k) for k in REQUIRED):
        return refuse("missing fields")
    if notice.get("sign_type", "RSA2") != "RSA2":
        return refuse("sign type")
    if not _signed_by_alipay(notice, cfg.alipay_public_key):
        return refuse("bad signature")
    if notice["app_id"] != cfg.app_id:
        return refuse("app id")
    if not AMOUNT_RE.match(notice["total_amount"]) or not orders.NUMBER_RE.match(notice["trade_no"]):
        return refuse("malformed amount or trade number")
    try:
        order = orders.get_order(notice["out_trade_no"])
        if Decimal(notice["total_amount"]) != Decimal(amount_of(order)):
            return refuse("amount")
        if notice["trade_status"] in UNPAID:
            return True
        if notice["trade_status"] not in PAID:
            return refuse("trade status")
        if _record(order.id, notice["trade_no"], notice["total_amount"]):
            log.info("Alipay payment %s recorded for order %s", notice["trade_no"], order.id)
        return True
    except DomainError as exc:
        return refuse(type(exc).__name__)
