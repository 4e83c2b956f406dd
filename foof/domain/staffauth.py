"""Staff logins to the console (issue #15): phone number + password, staff roles only.

The console sends what the legacy app sends: the SHA-1 hex of the typed password, checked by
:func:`foof.domain.accounts.check_password` (so the account's guess limit, the lockout and a
disabled account's refusal apply as on both faces). Failed console logins are also limited
per client address (``FOOF_ADMIN_LOGINS_PER_IP`` per 15 minutes, rate kind ``admin:login``).

A console session is a random id in the ``foof_admin`` cookie; only its SHA-256 is stored
(``staff_sessions``), with a CSRF secret and an expiry (``FOOF_ADMIN_SESSION_HOURS``). It
is checked on every request: it ends at logout, at expiry, when the account is disabled,
when it is no longer staff, and when its password changed after the login.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select

from foof.domain import accounts, cards, clock, ratelimit, seclog, verification
from foof.domain.errors import DomainError, UserNotFound, WrongPassword
from foof.domain.tx import atomic
from foof.extensions import db
from foof.models import AccountBlock, Credential, StaffSession, User

LOGIN_KIND = "admin:login"
WINDOW = 15 * 60


class NotStaff(DomainError):
    """The password is right but the account is not an admin or moderator."""


class ConsoleLoginsExhausted(DomainError):
    """Too many failed console logins from this client address."""


@dataclass(frozen=True)
class Staff:
    uuid: int
    role: str
    name: str
    csrf_secret: str


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode("utf-8")).hexdigest()


def login(phone: str, typed_password: str, ip: str) -> tuple[str, str]:
    """``(session id, csrf secret)`` for a staff login."""
    limit = int(current_app.config["FOOF_ADMIN_LOGINS_PER_IP"])
    event = atomic(ratelimit.take, LOGIN_KIND, ip or "-", limit, WINDOW) if limit else None
    if limit and event is None:
        seclog.event("admin.login.locked", ip=ip or "-")
        raise ConsoleLoginsExhausted()
    if not verification.valid_phone(phone):
        raise WrongPassword()
    row = db.session.execute(select(User.uuid, User.password).where(User.phonenumber == phone)).first()
    if row is None:
        accounts.reserve_guess("phone:" + phone)
        raise WrongPassword()
    digest = hashlib.sha1(typed_password.encode("utf-8", "replace")).hexdigest()
    issued_ms = accounts.check_password(row.uuid, row.password, digest)
    if not cards.is_staff(row.uuid):
        seclog.event("admin.login.refused", uuid=row.uuid, why="not staff")
        raise NotStaff()
    sid, csrf_secret = secrets.token_urlsafe(32), secrets.token_hex(32)
    hours = int(current_app.config["FOOF_ADMIN_SESSION_HOURS"])

    def work() -> None:
        if event is not None:
            ratelimit.give_back(event)  # a staff login that succeeded does not count
        now = clock.now()
        db.session.add(
            StaffSession(
                sid_hash=_hash(sid),
                uuid=row.uuid,
                csrf_secret=csrf_secret,
                issued_ms=issued_ms,
                created_at=now,
                expires_at=now + timedelta(hours=hours),
            )
        )

    atomic(work)
    seclog.event("admin.login", uuid=row.uuid)
    return sid, csrf_secret


def current(sid: object) -> Staff | None:
    """The staff member of a console session id, or None (and the row is dropped when it has
    ended for any reason but a malformed id)."""
    if not isinstance(sid, str) or not 20 <= len(sid) <= 100:
        return None
    key = _hash(sid)
    found = db.session.get(StaffSession, key)
    if found is None:
        return None
    uuid = found.uuid
    changed = db.session.execute(select(Credential.password_changed_ms).where(Credential.uuid == uuid)).scalar()
    role = cards.role_of(uuid)
    alive = (
        found.expires_at > clock.now()
        and db.session.get(AccountBlock, uuid) is None
        and int(changed or 0) <= found.issued_ms
        and role in cards.STAFF
    )
    if not alive:
        atomic(lambda: db.session.execute(delete(StaffSession).where(StaffSession.sid_hash == key)))
        return None
    try:
        user = accounts.get(uuid)
    except UserNotFound:
        return None
    return Staff(uuid=uuid, role=role, name=user.username, csrf_secret=found.csrf_secret)


def logout(sid: object) -> None:
    if isinstance(sid, str) and sid:
        key = _hash(sid)
        atomic(lambda: db.session.execute(delete(StaffSession).where(StaffSession.sid_hash == key)))
