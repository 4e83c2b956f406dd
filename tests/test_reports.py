"""POST /reports (issue #15) and resolving reports: the rules of foof.domain.reports through
the REST face, and the resolutions through the domain. On both databases."""

import json
import threading

import pytest
from sqlalchemy import select

from foof.domain import reports
from foof.extensions import db
from foof.models import Item, Report
from tests.test_rest import Person, assert_refused, call, ok


@pytest.fixture
def people(app):
    return {name: Person(app, name) for name in ("seller", "reporter", "other")}


def body(kind, target, reason="fake", note=None):
    found = {"kind": kind, "id": target, "reason": reason}
    if note is not None:
        found["note"] = note
    return found


def report_rows(app):
    with app.app_context():
        rows = db.session.execute(select(Report).order_by(Report.id)).scalars().all()
        return [(r.reporter, r.kind, r.target, r.reason, r.note, r.state) for r in rows]


def test_report_a_product_and_a_user(app, people):
    pid = people["seller"].add_product()
    me = people["reporter"]
    assert ok(me("POST", "/reports", body("product", pid, "prohibited", "卖管制刀具"))) is None
    assert ok(me("POST", "/reports", body("user", people["seller"].id, "harassment"))) is None
    assert report_rows(app) == [
        (me.uuid, "product", int(pid), "prohibited", "卖管制刀具", "open"),
        (me.uuid, "user", people["seller"].uuid, "harassment", "", "open"),
    ]


def test_one_open_report_per_reporter_and_target(app, people):
    pid = people["seller"].add_product()
    me = people["reporter"]
    ok(me("POST", "/reports", body("product", pid)))
    assert_refused(
        me("POST", "/reports", body("product", f"{int(pid):020d}", "spam")), 4010, "你已举报过该对象，请等待处理"
    )
    ok(people["other"]("POST", "/reports", body("product", pid)))  # someone else may
    with app.app_context():
        first = db.session.execute(select(Report.id)).scalars().first()
        assert reports.resolve(first, "dismiss", actor=1) == 2  # both open reports on the target close
    ok(me("POST", "/reports", body("product", pid)))  # once resolved, a new report is possible


def test_concurrent_duplicates_make_one_report(app, people):
    pid = people["seller"].add_product()
    me = people["reporter"]
    cookie = me.client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    results = []

    def send():
        client = app.test_client()
        client.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
        reply = client.post("/reports", data=json.dumps(body("product", pid)), content_type="application/json")
        results.append(reply.json["state"])

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [200] + [4010] * 5, results
    assert len(report_rows(app)) == 1


def test_rate_limited_per_hour(app, people, clock, make_user):
    app.config["FOOF_REPORTS_PER_HOUR"] = 3
    me = people["reporter"]
    targets = [make_user(f"1380000010{n}", "x") for n in range(5)]
    for uuid in targets[:3]:
        ok(me("POST", "/reports", body("user", uuid)))
    assert_refused(me("POST", "/reports", body("user", targets[3])), 4011, "举报过于频繁，请稍后再试")
    assert len(report_rows(app)) == 3
    clock.advance(3601)
    ok(me("POST", "/reports", body("user", targets[3])))


@pytest.mark.parametrize(
    ("payload", "state"),
    [
        (body("item", 1), 4005),
        (body("product", 1, "ugly"), 4005),
        (body("product", 1, "fake", "x" * 256), 4005),
        (body("product", 1, "fake", 5), 4005),
        (body("product", 999), 4006),
        (body("user", 999), 4001),
        (body("product", "abc"), 4006),
        (body("product", True), 4005),
        (body("product", [1]), 4005),
        (body("product", {"id": 1}), 4005),
        ({"kind": "product", "reason": "fake"}, 4005),
        ({}, 4005),
    ],
)
def test_bad_reports_are_refused(app, people, payload, state):
    people["seller"].add_product()  # product 1
    assert_refused(people["reporter"]("POST", "/reports", payload), state)
    assert report_rows(app) == []


def test_not_yourself_nor_your_own_product(app, people):
    seller = people["seller"]
    pid = seller.add_product()
    assert_refused(seller("POST", "/reports", body("product", pid)), 4005)
    assert_refused(seller("POST", "/reports", body("user", seller.id)), 4005)


def test_login_required_and_a_note_at_the_limit(app, people):
    assert_refused(call(app.test_client(), "POST", "/reports", body("user", 1)), 4003)
    pid = people["seller"].add_product()
    ok(people["reporter"]("POST", "/reports", body("product", pid, "other", "好" * 255)))


def test_a_deleted_product_cannot_be_reported(app, people):
    pid = people["seller"].add_product()
    ok(people["seller"]("DELETE", f"/products/{pid}"))
    assert_refused(people["reporter"]("POST", "/reports", body("product", pid)), 4006)


def test_resolve_takedown_and_disable(app, people, client):
    seller, me = people["seller"], people["reporter"]
    pid = seller.add_product("假耳机")
    ok(me("POST", "/reports", body("product", pid)))
    ok(me("POST", "/reports", body("user", seller.id, "fraud")))
    with app.app_context():
        product_report, user_report = db.session.execute(select(Report.id).order_by(Report.id)).scalars().all()
        with pytest.raises(Exception) as refused:
            reports.resolve(user_report, "takedown", actor=1)  # a user cannot be taken down
        assert type(refused.value).__name__ == "Invalid"
        with pytest.raises(reports.ReportNotOpen):
            reports.resolve(999, "dismiss", actor=1)
        assert reports.resolve(product_report, "takedown", actor=1, reason="假货") == 1
        with pytest.raises(reports.ReportNotOpen):
            reports.resolve(product_report, "dismiss", actor=1)
        assert db.session.get(Item, int(pid)).sold == 4
        assert reports.resolve(user_report, "disable", actor=1) == 1
        assert [r.resolution for r in db.session.execute(select(Report).order_by(Report.id)).scalars()] == [
            "takedown",
            "disable",
        ]
    assert call(client, "GET", f"/products/detail/{pid}").json["state"] == 4006
    assert seller("GET", "/users/detail").status_code == 401  # the seller's session died


def test_openapi_lists_post_reports(client):
    document = client.get("/openapi.json").json
    operation = document["paths"]["/reports"]["post"]
    assert operation["security"]
    schema = document["components"]["schemas"]["ReportRequest"]
    assert set(schema["properties"]) == {"kind", "id", "reason", "note"}
    assert schema["properties"]["reason"]["enum"] == list(reports.REASONS)


def test_a_staff_account_is_not_disabled_through_a_report(app, people):
    seller, me = people["seller"], people["reporter"]
    ok(me("POST", "/reports", body("user", seller.id, "harassment")))
    from foof.domain import cards, moderation

    with app.app_context():
        cards.grant_role("seller", "moderator")
        rid = db.session.execute(select(Report.id)).scalar()
        with pytest.raises(reports.StaffTarget):
            reports.resolve(rid, "disable", actor=1)
        assert not moderation.is_disabled(seller.uuid)
        assert reports.open_count() == 1
