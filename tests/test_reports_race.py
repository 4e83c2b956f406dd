"""Two staff members resolving the same report at the same moment (issue #15 review): one
wins; the other is told the report is gone and its action is not applied (a listing taken
down by one and its seller disabled by the other would be two decisions on one report).
The two resolutions both read the report as open before either writes. On both databases."""

import threading

import pytest
from sqlalchemy import func, select

from foof.domain import listings, moderation, reports
from foof.extensions import db
from foof.models import AccountBlock, AuditEntry, Item, Report


@pytest.fixture
def reported(app, make_user):
    seller, reporter = make_user("13800000061", "a"), make_user("13800000062", "b")
    with app.app_context():
        itemid = listings.add(seller, {"title": "假货", "type": 1, "price": 5, "depreciatione": 90, "sold": 1}).itemid
        report_id = reports.file(reporter, "product", itemid, "fake", "")
    return seller, itemid, report_id


def test_two_staff_resolve_one_report_at_once(app, reported, monkeypatch):
    seller, itemid, report_id = reported
    both_read = threading.Barrier(2, timeout=10)
    real_get = reports.get

    calls = []

    def get_then_wait(rid):
        report = real_get(rid)
        calls.append(rid)
        if len(calls) <= 2:  # not a retry of the loser: the winner is not waiting any more
            both_read.wait()  # each resolution has read the report as open
        return report

    monkeypatch.setattr(reports, "get", get_then_wait)
    outcomes = {}

    def resolve(action, actor):
        with app.app_context():
            try:
                outcomes[action] = reports.resolve(report_id, action, actor, "")
            except reports.ReportNotOpen:
                outcomes[action] = "gone"
            except Exception as exc:  # noqa: BLE001 - the test reports it
                outcomes[action] = repr(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=resolve, args=(a, n)) for n, a in ((7, "takedown"), (8, "disable"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(map(str, outcomes.values())) == ["1", "gone"], outcomes
    winner = next(action for action, outcome in outcomes.items() if outcome == 1)
    with app.app_context():
        taken_down = db.session.get(Item, itemid).sold == listings.DELETED and not listings.is_held(itemid)
        disabled = moderation.is_disabled(seller)
        assert (taken_down, disabled) == ((True, False) if winner == "takedown" else (False, True)), outcomes
        assert db.session.get(Report, report_id).resolution == winner
        entries = db.session.execute(select(AuditEntry.action)).scalars().all()
        assert sorted(entries) == sorted(
            ["report." + winner, "item.takedown" if winner == "takedown" else "user.disable"]
        )
        assert db.session.execute(select(func.count()).select_from(AccountBlock)).scalar() == int(disabled)
