"""Server-side login sessions for the secondhand face (cookie id → ``web_sessions`` row)."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import delete, select

from foof.domain import clock
from foof.domain.errors import WrongPassword
from foof.domain.tx import atomic
from foof.extensions import db
from foof.models import Credential, WebSession


def _hash(sid: str) -> str:
    return hashlib.sha256(sid.encode("utf-8")).hexdigest()


def start_in(uuid: int, issued_ms: int | None = None) -> str:
    """A new session id for ``uuid`` (goes into the signed cookie), its row written in the
    caller's transaction (the login's last write). With ``issued_ms`` (when the password that
    earned it was read, :func:`foof.domain.accounts.check_password`) a password change
    recorded after that moment refuses the session (:class:`WrongPassword`): the row is
    written first, so a change committing later deletes it with the others."""
    sid = secrets.token_urlsafe(32)
    db.session.add(WebSession(sid_hash=_hash(sid), uuid=int(uuid), created_at=clock.now()))
    db.session.flush()
    if issued_ms is not None:
        changed = db.session.execute(
            select(Credential.password_changed_ms).where(Credential.uuid == int(uuid))
        ).scalar()
        if changed is not None and changed > issued_ms:
            raise WrongPassword()
    return sid


def owner(sid: object) -> int | None:
    """The uuid of a live session, or None."""
    if not isinstance(sid, str) or not sid:
        return None
    return db.session.execute(select(WebSession.uuid).where(WebSession.sid_hash == _hash(sid))).scalar()


def end(sid: object) -> None:
    if isinstance(sid, str) and sid:
        atomic(lambda: db.session.execute(delete(WebSession).where(WebSession.sid_hash == _hash(sid))))


def end_all_in(uuid: int, keep: object = None) -> None:
    """End every session of ``uuid`` but ``keep``, inside the caller's transaction (the
    password change that makes them end commits with it)."""
    stmt = delete(WebSession).where(WebSession.uuid == uuid)
    if isinstance(keep, str) and keep:
        stmt = stmt.where(WebSession.sid_hash != _hash(keep))
    db.session.execute(stmt)


def end_all(uuid: int, keep: object = None) -> None:
    """End every session of ``uuid`` (after a password change or reset), but ``keep``."""
    atomic(end_all_in, uuid, keep)
