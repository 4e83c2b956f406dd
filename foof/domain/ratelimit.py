"""Rate limits counted in the database, so every server thread and process shares them.

Each limited event is a ``rate_events`` row. A check that is followed by a record must be one
step, or attempts sent at once all see the same count and all pass (40 parallel wrong logins
checked 16-17 passwords against a limit of 10). :func:`take` makes it one step: it first
writes the subject's ``rate_locks`` row (an upsert), which serialises every transaction
touching that subject until it commits, then counts with a locking read (the newest committed
rows, whatever snapshot the transaction holds) and records the event only when there is room.
On SQLite the upsert takes the database's write lock; on MySQL/MariaDB the row's exclusive
lock. Lock waits and deadlocks are retried by :func:`foof.domain.tx.atomic`.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select

from foof.domain import clock
from foof.domain.tx import upsert
from foof.extensions import db
from foof.models import RateEvent, RateLock

_LOCK_SUBJECT = 191  # the lock table's key length (utf8mb4 index limit)


def _subject(subject: object) -> str:
    return str(subject)[:255]


def hold(kind: str, subject: object) -> None:
    """Lock ``(kind, subject)`` until the surrounding transaction ends (call inside atomic)."""
    values = {"kind": kind, "subject": _subject(subject)[:_LOCK_SUBJECT], "touched_at": clock.now()}
    upsert(RateLock, values, ["kind", "subject"], ["touched_at"])


def count(kind: str, subject: object, window_seconds: float, locked: bool = False) -> int:
    """Events of ``(kind, subject)`` in the last ``window_seconds``; ``locked`` reads the newest
    committed rows (MySQL's locking read) instead of the transaction's snapshot."""
    since = clock.now() - timedelta(seconds=window_seconds)
    stmt = (
        select(func.count())
        .select_from(RateEvent)
        .where(RateEvent.kind == kind, RateEvent.subject == _subject(subject), RateEvent.created_at > since)
    )
    if locked:
        stmt = stmt.with_for_update(read=True)
    return db.session.execute(stmt).scalar_one()


def record(kind: str, subject: object) -> int:
    """Add one event (inside the caller's transaction); returns the new row's id."""
    event = RateEvent(kind=kind, subject=_subject(subject), created_at=clock.now())
    db.session.add(event)
    db.session.flush()
    return event.id


def room(kind: str, subject: object, limit: int, window_seconds: float) -> bool:
    """Whether ``(kind, subject)`` has fewer than ``limit`` events in the window, with the
    subject locked (so a :func:`record` in the same transaction cannot be overtaken)."""
    hold(kind, subject)
    return count(kind, subject, window_seconds, locked=True) < limit


def take(kind: str, subject: object, limit: int, window_seconds: float) -> int | None:
    """Check and record in one step (call inside :func:`foof.domain.tx.atomic`): the new
    event's id when fewer than ``limit`` events of ``(kind, subject)`` fall in the window,
    else None (nothing recorded). Of attempts sent at once exactly ``limit`` get an id."""
    if not room(kind, subject, limit, window_seconds):
        return None
    return record(kind, subject)


def give_back(event_id: int | None) -> None:
    """Withdraw one event taken earlier (e.g. the attempt of a login that succeeded)."""
    if event_id is not None:
        db.session.execute(delete(RateEvent).where(RateEvent.id == event_id))


def forget(kind: str, subject: object) -> None:
    db.session.execute(delete(RateEvent).where(RateEvent.kind == kind, RateEvent.subject == _subject(subject)))


def prune(older_than_seconds: float = 2 * 86400) -> None:
    """Drop events no window looks at any more (called now and then, e.g. by init-db)."""
    cutoff = clock.now() - timedelta(seconds=older_than_seconds)
    db.session.execute(delete(RateEvent).where(RateEvent.created_at < cutoff))
    db.session.execute(delete(RateLock).where(RateLock.touched_at < cutoff))
