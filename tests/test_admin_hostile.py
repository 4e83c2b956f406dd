"""Hostile input to the staff console (issue #15; the JSON matrix in test_hostile_matrix.py
leaves /admin to this module): every field of every console form and query, with hostile
values, as a logged-in admin and as a visitor. Never a 5xx, never a traceback or SQL, and a
refused request changes no row."""

import hashlib
import re

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from foof.domain import cards, listings, reports
from foof.extensions import db
from foof.models import AccountBlock, AuditEntry, CardReview, Item, Report, StaffSession
from tests.test_rest import Person, ok, png, upload

ADMIN_PHONE, ADMIN_PASSWORD = "13900000001", "admin-secret"
TOKEN_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
LEAKS = ("Traceback", "sqlalchemy", "SELECT ", "INSERT ", "pymysql", "sqlite3")
#: Values a form field may carry (forms are text: these are the texts of other JSON types too).
HOSTILE = [
    "",
    " ",
    "0",
    "-1",
    "1e309",
    "null",
    "true",
    "[1, 2]",
    '{"a": 1}',
    "x" * 256,
    "长" * 5000,
    "\x00",
    "a\r\nSet-Cookie: x=1",
    "' OR 1=1 --",
    "%",
    "<script>alert(1)</script>",
    "\U0001f600" * 100,
]
#: Percent-encoded bytes that are not UTF-8 text (a lone surrogate, a bare continuation byte).
RAW_BODIES = [b"reason=%ED%A0%80", b"reason=%80%FF&card=%C0%AF", b"%", b"=" * 1000, b"a=" + b"b" * 100000]


def sha1(text):
    return hashlib.sha1(text.encode()).hexdigest()


@pytest.fixture
def config(config, tmp_path):
    config["FOOF_UPLOAD_ROOT"] = str(tmp_path / "upload")
    config["FOOF_ADMIN_LOGINS_PER_IP"] = 0  # the login cells must not lock each other out
    return config


@pytest.fixture
def world(app, make_user):
    admin = make_user(ADMIN_PHONE, sha1(ADMIN_PASSWORD))
    with app.app_context():
        cards.grant_role(ADMIN_PHONE, "admin")
    student = Person(app, "xiaoli")
    ok(upload(student.client, "POST", "/users/detail/studentcard", png()))
    seller = make_user("13800000021", "x")
    with app.app_context():
        itemid = listings.add(seller, {"title": "台灯", "type": 1, "price": 5, "depreciatione": 90, "sold": 1}).itemid
    ok(student("POST", "/reports", {"kind": "product", "id": itemid, "reason": "fake"}))
    console = app.test_client()
    token = TOKEN_RE.search(console.get("/admin/login").get_data(as_text=True)).group(1)
    assert (
        console.post(
            "/admin/login", data={"csrf_token": token, "phone": ADMIN_PHONE, "password": ADMIN_PASSWORD}
        ).status_code
        == 302
    )
    with app.app_context():
        card = cards.review_of(student.uuid).card
        report = db.session.execute(select(Report.id)).scalar()
    return {
        "admin": admin,
        "student": student.uuid,
        "seller": seller,
        "item": itemid,
        "card": card,
        "report": report,
        "console": console,
    }


def snapshot(app):
    with app.app_context():
        return {
            model.__tablename__: db.session.execute(select(func.count()).select_from(model)).scalar()
            for model in (AccountBlock, AuditEntry, Report, StaffSession)
        } | {
            "items": tuple(db.session.execute(select(Item.sold).order_by(Item.itemid)).scalars()),
            "reports_open": reports.open_count(),
            "cards": tuple(db.session.execute(select(CardReview.state)).scalars()),
        }


def check(reply, where, failures):
    text = reply.get_data(as_text=True)
    if reply.status_code >= 500:
        failures.append(f"{where}: HTTP {reply.status_code}")
    if any(leak in text for leak in LEAKS):
        failures.append(f"{where}: leaks {text[:200]!r}")
    if "\r\nSet-Cookie: x=1" in str(reply.headers):
        failures.append(f"{where}: header injection")


def forms(w):
    """(path, page that holds its token, {field: valid value})."""
    return [
        ("/admin/login", "/admin/login", {"phone": ADMIN_PHONE, "password": "wrong-on-purpose"}),
        (f"/admin/cards/{w['student']}/reject", "/admin/cards", {"card": w["card"], "reason": "模糊"}),
        (f"/admin/cards/{w['student']}/approve", "/admin/cards", {"card": w["card"]}),
        (f"/admin/reports/{w['report']}/resolve", "/admin/reports", {"action": "dismiss", "reason": "无问题"}),
        (f"/admin/users/{w['seller']}/disable", "/admin/users?q=1", {"reason": "测试"}),
        (f"/admin/users/{w['seller']}/enable", "/admin/users?q=1", {}),
        (f"/admin/users/{w['seller']}/unlock", "/admin/users?q=1", {}),
        ("/admin/logout", "/admin", {}),
    ]


def token_of(client, page):
    found = TOKEN_RE.search(client.get(page).get_data(as_text=True))
    return found.group(1) if found else ""


def test_every_console_field_with_hostile_values(app, world):
    console, failures = world["console"], []
    for path, page, valid in forms(world):
        names = list(valid) + ["csrf_token"]
        for name in names:
            for value in HOSTILE:
                before = snapshot(app)
                data = {"csrf_token": token_of(console, page), **valid, name: value}
                if path == "/admin/logout":
                    data["csrf_token"] = value  # only the token: a valid one would log out
                reply = console.post(path, data=data)
                check(reply, f"POST {path} {name}={value[:20]!r}", failures)
                accepted = (
                    reply.status_code == 302
                    and "m=" in reply.headers.get("Location", "")
                    and any(
                        ok_code in reply.headers["Location"]
                        for ok_code in ("m=rejected", "m=approved", "m=resolved", "m=disabled")
                    )
                )
                if not accepted and path != "/admin/login" and snapshot(app) != before:
                    failures.append(f"POST {path} {name}={value[:20]!r}: refused but changed rows")
    assert not failures, "\n".join(failures[:30])


def test_raw_bodies_other_types_and_repeated_fields(app, world):
    console, failures = world["console"], []
    for path, page, valid in forms(world):
        for body in RAW_BODIES:
            reply = console.post(path, data=body, content_type="application/x-www-form-urlencoded")
            check(reply, f"POST {path} raw {body[:20]!r}", failures)
        for content_type, body in (
            ("application/json", b'{"reason": "x", "csrf_token": "y"}'),
            ("application/json", b"[1, 2, 3]"),
            ("application/json", b'"\\ud800"'),
            ("application/json", b"{not json"),
            ("text/plain", b"reason=x"),
            ("", b""),
        ):
            before = snapshot(app)
            reply = console.post(path, data=body, content_type=content_type)
            check(reply, f"POST {path} {content_type}", failures)
            if reply.status_code != 400 and path != "/admin/login":
                failures.append(f"POST {path} {content_type}: {reply.status_code}, not 400")
            if snapshot(app) != before:
                failures.append(f"POST {path} {content_type}: changed rows")
        data = MultiDict([("csrf_token", token_of(console, page))] + [(k, v) for k, v in valid.items()] * 2)
        check(console.post(path, data=data), f"POST {path} repeated", failures)
    assert not failures, "\n".join(failures[:30])


@pytest.mark.parametrize("visitor", [False, True])
def test_paths_and_queries(app, world, visitor):
    client = app.test_client() if visitor else world["console"]
    failures = []
    for path in (
        "/admin/cards/99999999999999999999999/image",
        "/admin/cards/2147483648/approve",
        "/admin/cards/-1/image",
        "/admin/cards/0/image",
        "/admin/reports/99999999999999999999/resolve",
        "/admin/users/4294967296/disable",
        "/admin/users/1/explode",
        "/admin/nothing",
    ):
        check(client.get(path), f"GET {path}", failures)
        check(client.post(path, data={"reason": "x"}), f"POST {path}", failures)
    for value in HOSTILE + ["%ED%A0%80", "%00", "1" * 10000]:
        for query in ("q", "page", "m"):
            for page in ("/admin/users", "/admin/audit", "/admin", "/admin/cards", "/admin/login"):
                reply = client.get(page, query_string={query: value})
                check(reply, f"GET {page}?{query}={value[:20]!r}", failures)
                if reply.status_code == 200 and "<script>alert(1)</script>" in reply.get_data(as_text=True):
                    failures.append(f"GET {page}?{query}: reflected unescaped")
    for cookie in ("", "x" * 4000, "\u00e9", "a;b", "0" * 64):
        fresh = app.test_client()
        fresh.set_cookie("foof_admin", cookie, path="/admin")
        fresh.set_cookie("foof_admin_csrf", cookie, path="/admin")
        check(fresh.get("/admin/login"), f"cookie {cookie[:10]!r}", failures)
        check(
            fresh.post("/admin/login", data={"csrf_token": "x", "phone": "1", "password": "1"}), "cookie post", failures
        )
    assert not failures, "\n".join(failures[:30])
