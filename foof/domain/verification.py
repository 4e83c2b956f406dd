"""SMS verification codes (docs/legacy-wire.md §5).

A code is 4 digits, stored as an HMAC keyed with the app secret, valid 10 minutes, burned
after 5 wrong tries, and consumed only for its own phone number. Only the newest code of a
number is live: asking again replaces the previous one. Limits: one code per number per
60 s, 10 per number and 30 per client IP in any 24 hours, each checked and recorded in the
code's own transaction with the number's and the address's rate locks held (so requests sent
at once cannot overrun them).

A phone number may come as a JSON integer (``13800000009``: its digits are the number, see
:func:`foof.domain.values.phone_text`). A code sent as a JSON number means the 4-digit code
with that value, as the old server's loose ``==`` compared it: ``851`` is ``"0851"``. A code
sent as text is compared as sent (``"851"`` is not ``"0851"``).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from datetime import timedelta
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import select, update

from foof.domain import clock, ratelimit, seclog
from foof.domain.errors import BadCode, Invalid, NoLiveCode, SendFailed, TooFrequent
from foof.domain.tx import atomic
from foof.domain.values import phone_text
from foof.extensions import db
from foof.models import VerifyCode

log = logging.getLogger(__name__)

PHONE_RE = re.compile(r"^\+?[0-9]{1,20}\Z")
CODE_SECONDS = 600
MAX_TRIES = 5
GAP_SECONDS = 60
PER_NUMBER_PER_DAY = 10
PER_IP_PER_DAY = 30
DAY = 86400


class SmsSender(Protocol):
    """What :func:`request_code` needs of an SMS sender (``foof.senders``)."""

    def send(self, phonenumber: str, code: str) -> object: ...


def valid_phone(phonenumber: object) -> bool:
    return isinstance(phonenumber, str) and bool(PHONE_RE.match(phonenumber))


def parse_phone(value: Any) -> str:
    """A phone number that can receive a code, from the wire (text, or a JSON integer as its
    digits), as text; anything else :class:`Invalid`."""
    phonenumber = phone_text(value)
    if not valid_phone(phonenumber):
        raise Invalid()
    return phonenumber


CODE_DIGITS = 4


def code_text(code: Any) -> str:
    """The code as compared: text as sent; a JSON number with an integral value 0-9999 as
    the 4-digit code of that value (``851`` → ``"0851"``, ``851.0`` too, as JavaScript's
    ``"0851" == 851`` holds); any other value as a text no code equals."""
    if isinstance(code, str):
        return code
    if isinstance(code, bool) or not isinstance(code, (int, float)):
        return ""
    if isinstance(code, float):
        if not code.is_integer():
            return ""
        code = int(code)
    return f"{code:0{CODE_DIGITS}d}" if 0 <= code < 10**CODE_DIGITS else ""


def _digest(phonenumber: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{phonenumber}:{code}".encode(), hashlib.sha256).hexdigest()


def _issue(phonenumber: str, ip: str | None) -> tuple[int, str, list[int]]:
    # Locks in one order (number, then address), so two requests cannot wait on each other.
    if not ratelimit.room("sms:phone", phonenumber, 1, GAP_SECONDS):
        raise TooFrequent()
    if not ratelimit.room("sms:phone", phonenumber, PER_NUMBER_PER_DAY, DAY):
        raise TooFrequent()
    if ip and not ratelimit.room("sms:ip", ip, PER_IP_PER_DAY, DAY):
        raise TooFrequent()
    now = clock.now()
    code = f"{secrets.randbelow(10000):04d}"
    row = VerifyCode(
        phonenumber=phonenumber,
        code_hash=_digest(phonenumber, code),
        created_at=now,
        expires_at=now + timedelta(seconds=CODE_SECONDS),
        tries=0,
        state="live",
    )
    db.session.add(row)
    events = [ratelimit.record("sms:phone", phonenumber)]
    if ip:
        events.append(ratelimit.record("sms:ip", ip))
    db.session.flush()
    return row.id, code, events


def request_code(phonenumber: Any, ip: str | None, sms: SmsSender) -> str:
    """Create a code for ``phonenumber`` and hand it to the SMS sender; returns the code.

    The code and the rate-limit events are committed first; if the sender then fails they
    are withdrawn again, so a failed send neither leaves a code nobody received nor counts
    against the person's limits. ``phonenumber`` is the wire value (text or a JSON integer).
    """
    phonenumber = parse_phone(phonenumber)
    try:
        row_id, code, events = atomic(_issue, phonenumber, ip)
    except TooFrequent:
        seclog.event("code.refused", phone=seclog.mask(phonenumber), ip=ip or "-", why="too-frequent")
        raise
    try:
        sms.send(phonenumber, code)
    except SendFailed:
        atomic(_withdraw, row_id, events)
        seclog.count("sms", False)
        seclog.event("code.send.failed", phone=seclog.mask(phonenumber), ip=ip or "-")
        raise
    # Only the newest code counts (``_live`` reads the newest); retire older ones only now,
    # so a failed resend leaves the code the person already received working.
    atomic(
        lambda: db.session.execute(
            update(VerifyCode)
            .where(VerifyCode.phonenumber == phonenumber, VerifyCode.state == "live", VerifyCode.id != row_id)
            .values(state="replaced")
        )
    )
    log.info("verification code sent to %s", _mask(phonenumber))
    seclog.count("sms", True)
    seclog.event("code.sent", phone=seclog.mask(phonenumber), ip=ip or "-")
    return code


def _withdraw(row_id: int, events: list[int]) -> None:
    """Undo a code that could not be sent: the code and exactly its own rate events."""
    db.session.execute(update(VerifyCode).where(VerifyCode.id == row_id).values(state="unsent"))
    for event_id in events:
        ratelimit.give_back(event_id)


def _mask(phonenumber: str) -> str:
    return phonenumber[:3] + "****" + phonenumber[-2:] if len(phonenumber) > 6 else "****"


def _live(phonenumber: str) -> VerifyCode | None:
    return db.session.execute(
        select(VerifyCode)
        .where(
            VerifyCode.phonenumber == phonenumber,
            VerifyCode.state == "live",
            VerifyCode.expires_at > clock.now(),
        )
        .order_by(VerifyCode.id.desc())
        .limit(1)
    ).scalar()


def _spend_try(row_id: int) -> None:
    db.session.execute(
        update(VerifyCode).where(VerifyCode.id == row_id, VerifyCode.state == "live").values(tries=VerifyCode.tries + 1)
    )
    db.session.execute(
        update(VerifyCode).where(VerifyCode.id == row_id, VerifyCode.tries >= MAX_TRIES).values(state="burned")
    )


def consume(phonenumber: str, code: Any) -> None:
    """Use the live code of ``phonenumber`` inside the caller's transaction.

    Must be called inside :func:`foof.domain.tx.atomic`. A wrong code spends one try in its
    own committed transaction (so a failure cannot be rolled back to get more tries) and
    raises :class:`BadCode`; no live code raises :class:`NoLiveCode`. Of two concurrent
    correct uses only one consumes the code (conditional update).
    """
    row = _live(phonenumber)
    if row is None:
        raise NoLiveCode()
    code = code_text(code)
    if not hmac.compare_digest(row.code_hash, _digest(phonenumber, code)):
        row_id = row.id
        db.session.rollback()
        atomic(_spend_try, row_id)
        raise BadCode()
    used = db.session.execute(  # type: ignore[attr-defined]  # a CursorResult
        update(VerifyCode).where(VerifyCode.id == row.id, VerifyCode.state == "live").values(state="used")
    ).rowcount
    if used != 1:
        raise NoLiveCode()
