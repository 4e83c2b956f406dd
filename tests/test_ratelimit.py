"""The rate-limit primitive: check and record in one step, decided by the database.

Attempts are sent at once from real threads, each with its own connection (as waitress
threads have), on the test database (SQLite file or MariaDB).
"""

import threading

from sqlalchemy import func, select

from foof.domain import ratelimit
from foof.domain.tx import atomic
from foof.extensions import db
from foof.models import RateEvent


def _at_once(app, count, work):
    start = threading.Barrier(count)
    results = [None] * count

    def run(index):
        with app.app_context():
            start.wait()
            try:
                results[index] = work()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def test_take_allows_exactly_the_limit_when_sent_at_once(app):
    results = _at_once(app, 24, lambda: atomic(ratelimit.take, "test:burst", "subject-1", 10, 600))
    assert sum(1 for r in results if r is not None) == 10
    with app.app_context():
        stored = db.session.execute(
            select(func.count()).select_from(RateEvent).where(RateEvent.kind == "test:burst")
        ).scalar()
    assert stored == 10


def test_take_counts_per_subject_and_window(app, clock):
    with app.app_context():
        assert atomic(ratelimit.take, "test:w", "a", 1, 60) is not None
        assert atomic(ratelimit.take, "test:w", "a", 1, 60) is None
        assert atomic(ratelimit.take, "test:w", "b", 1, 60) is not None  # another subject
        clock.advance(61)
        assert atomic(ratelimit.take, "test:w", "a", 1, 60) is not None  # the window moved


def test_give_back_returns_the_slot(app):
    with app.app_context():
        first = atomic(ratelimit.take, "test:g", "a", 1, 60)
        assert atomic(ratelimit.take, "test:g", "a", 1, 60) is None
        atomic(ratelimit.give_back, first)
        assert atomic(ratelimit.take, "test:g", "a", 1, 60) is not None


def test_long_subjects_are_limited_too(app):
    subject = "x" * 1000
    with app.app_context():
        assert atomic(ratelimit.take, "test:long", subject, 1, 60) is not None
        assert atomic(ratelimit.take, "test:long", subject, 1, 60) is None
