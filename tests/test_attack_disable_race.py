"""Two staff members (or the console and the command line) disabling one account at the same
moment (issue #15 review): one disables it, the other is told it already was; no error, one
block, one audit entry. Each waits (3 s at most) for the other to have found no block before
writing it, as two requests arriving together would."""

import threading

from sqlalchemy import func, select

from foof.domain import accounts, moderation
from foof.extensions import db
from foof.models import AccountBlock, AuditEntry


def test_two_disables_at_once(app, make_user, monkeypatch):
    uuid = make_user("13800000071", "a")
    both_checked = threading.Barrier(2, timeout=3)
    real = accounts.password_changed
    calls = []

    def wait_then_change(*args, **kwargs):
        calls.append(1)
        if len(calls) <= 2:  # both found no block (unless the first now holds them apart)
            try:
                both_checked.wait()
            except threading.BrokenBarrierError:
                pass  # the other is waiting for this one's lock: go on alone
        return real(*args, **kwargs)

    monkeypatch.setattr(moderation.accounts, "password_changed", wait_then_change)
    outcomes = []

    def disable(actor):
        with app.app_context():
            try:
                outcomes.append(moderation.disable(uuid, "spam", actor=actor))
            except Exception as exc:  # noqa: BLE001 - the test reports it
                outcomes.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=disable, args=(actor,)) for actor in ("7", "8")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(map(str, outcomes)) == ["False", "True"], outcomes
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(AccountBlock)).scalar() == 1
        assert db.session.execute(select(AuditEntry.action)).scalars().all() == ["user.disable"]
