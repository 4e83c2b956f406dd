"""Server-side login sessions for the secondhand face (cookie id → ``web_sessions`` row)."""
import hashlib
import secrets

from sqlalchemy import delete, select

from foof.domain import clock
from foof.domain.tx import atomic
from foof.extensions import db
from foof.models import WebSession


def _hash(sid):
    return hashlib.sha256(sid.encode("utf-8")).hexdigest()


def start(uuid):
    """A new session id for ``uuid`` (goes into the signed cookie)."""
    sid = secrets.token_urlsafe(32)
    atomic(lambda: db.session.add(WebSession(sid_hash=_hash(sid), uuid=int(uuid), created_at=clock.now())))
    return sid


def owner(sid):
    """The uuid of a live session, or None."""
    if not isinstance(sid, str) or not sid:
        return None
    return db.session.execute(select(WebSession.uuid).where(WebSession.sid_hash == _hash(sid))).scalar()


def end(sid):
    if isinstance(sid, str) and sid:
        atomic(lambda: db.session.execute(delete(WebSession).where(WebSession.sid_hash == _hash(sid))))


def end_all_in(uuid, keep=None):
    """End every session of ``uuid`` but ``keep``, inside the caller's transaction (the
    password change that makes them end commits with it)."""
    stmt = delete(WebSession).where(WebSession.uuid == uuid)
    if isinstance(keep, str) and keep:
        stmt = stmt.where(WebSession.sid_hash != _hash(keep))
    db.session.execute(stmt)


def end_all(uuid, keep=None):
    """End every session of ``uuid`` (after a password change or reset), but ``keep``."""
    atomic(end_all_in, uuid, keep)
