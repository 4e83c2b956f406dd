"""Rate limits counted in the database, so every server process shares them."""
from datetime import timedelta

from sqlalchemy import delete, func, select

from foof.domain import clock
from foof.extensions import db
from foof.models import RateEvent


def count(kind, subject, window_seconds):
    since = clock.now() - timedelta(seconds=window_seconds)
    stmt = select(func.count()).select_from(RateEvent).where(
        RateEvent.kind == kind, RateEvent.subject == subject, RateEvent.created_at > since
    )
    return db.session.execute(stmt).scalar_one()


def record(kind, subject):
    db.session.add(RateEvent(kind=kind, subject=str(subject)[:255], created_at=clock.now()))


def forget(kind, subject):
    db.session.execute(delete(RateEvent).where(RateEvent.kind == kind, RateEvent.subject == subject))


def prune(older_than_seconds=2 * 86400):
    """Drop events no window looks at any more (called now and then, e.g. by init-db)."""
    cutoff = clock.now() - timedelta(seconds=older_than_seconds)
    db.session.execute(delete(RateEvent).where(RateEvent.created_at < cutoff))
