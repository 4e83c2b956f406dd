"""The staff console (/admin, issue #15) over HTTP: login (staff only, CSRF, its own rate limit,
a strict revocable cookie), every queue's actions, and what they change on both faces."""

import hashlib
import re

import pytest
from sqlalchemy import select

from foof.domain import cards, listings
from foof.extensions import db
from foof.models import AuditEntry, Item, StaffSession
from tests.test_rest import Person, call, ok, png, upload

ADMIN_PHONE, ADMIN_PASSWORD = "13900000001", "admin-secret"
TOKEN_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def config(config, tmp_path):
    config["FOOF_UPLOAD_ROOT"] = str(tmp_path / "upload")
    return config


def sha1(text):
    return hashlib.sha1(text.encode()).hexdigest()


@pytest.fixture
def admin(app, make_user):
    uuid = make_user(ADMIN_PHONE, sha1(ADMIN_PASSWORD))
    with app.app_context():
        cards.grant_role(ADMIN_PHONE, "admin")
    return uuid


def csrf(client, path="/admin/login"):
    reply = client.get(path)
    assert reply.status_code == 200, (path, reply.status_code)
    return TOKEN_RE.search(reply.get_data(as_text=True)).group(1)


def log_in(client, phone=ADMIN_PHONE, password=ADMIN_PASSWORD):
    return client.post("/admin/login", data={"csrf_token": csrf(client), "phone": phone, "password": password})


@pytest.fixture
def console(app, admin):
    client = app.test_client()
    reply = log_in(client)
    assert reply.status_code == 302 and reply.headers["Location"] == "/admin", reply.get_data(as_text=True)[:500]
    return client


def post(client, path, page, **fields):
    return client.post(path, data={"csrf_token": csrf(client, page), **fields})


def audit_rows(app):
    with app.app_context():
        return [(e.action, e.target_kind, e.target) for e in db.session.execute(select(AuditEntry)).scalars()]


# -- login ---------------------------------------------------------------------------------------
def test_pages_need_a_staff_login(app, client):
    for path in ("/admin", "/admin/", "/admin/cards", "/admin/reports", "/admin/users?q=1", "/admin/audit"):
        reply = client.get(path)
        assert reply.status_code == 302 and reply.headers["Location"] == "/admin/login", path
    assert client.post("/admin/users/1/disable", data={"reason": "x"}).headers["Location"] == "/admin/login"


def test_login_sets_a_strict_revocable_cookie(app, admin):
    client = app.test_client()
    reply = log_in(client)
    assert reply.status_code == 302
    cookie = next(c for c in reply.headers.getlist("Set-Cookie") if c.startswith("foof_admin="))
    for flag in ("HttpOnly", "SameSite=Strict", "Path=/admin", "Max-Age=28800"):
        assert flag in cookie, cookie
    assert "Secure" not in cookie  # FOOF_PUBLIC_URL is http here
    sid = cookie.split(";")[0].split("=", 1)[1]
    with app.app_context():
        [row] = db.session.execute(select(StaffSession)).scalars().all()
        assert row.sid_hash == hashlib.sha256(sid.encode()).hexdigest() and row.sid_hash != sid
    page = client.get("/admin")
    assert page.status_code == 200 and "概览" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert app.config["SESSION_COOKIE_NAME"] not in reply.headers.get("Set-Cookie", "")  # no REST cookie
    token = csrf(client, "/admin")
    out = client.post("/admin/logout", data={"csrf_token": token})
    assert out.headers["Location"].startswith("/admin/login")
    with app.app_context():
        assert db.session.execute(select(StaffSession)).first() is None
    # The copied cookie is dead server-side.
    copy = app.test_client()
    copy.set_cookie("foof_admin", sid, path="/admin")
    assert copy.get("/admin").status_code == 302


def test_secure_cookie_behind_https(app, admin):
    app.config["SESSION_COOKIE_SECURE"] = True
    reply = log_in(app.test_client())
    assert "Secure" in next(c for c in reply.headers.getlist("Set-Cookie") if c.startswith("foof_admin="))


def test_login_refusals(app, admin, make_user):
    make_user("13900000002", sha1("student-pw"))
    client = app.test_client()
    assert "该账号没有后台权限" in log_in(client, "13900000002", "student-pw").get_data(as_text=True)
    assert "手机号或密码错误" in log_in(client, ADMIN_PHONE, "wrong").get_data(as_text=True)
    assert "手机号或密码错误" in log_in(client, "13999999999", "x").get_data(as_text=True)
    # The stored password is the SHA-1 the app sends: typing that hex is not the password.
    assert log_in(client, ADMIN_PHONE, sha1(ADMIN_PASSWORD)).status_code == 400
    no_token = client.post("/admin/login", data={"phone": ADMIN_PHONE, "password": ADMIN_PASSWORD})
    assert no_token.status_code == 400 and "页面已过期" in no_token.get_data(as_text=True)
    forged = client.post(
        "/admin/login", data={"csrf_token": "20990101000000##00", "phone": ADMIN_PHONE, "password": ADMIN_PASSWORD}
    )
    assert forged.status_code == 400
    with app.app_context():
        assert db.session.execute(select(StaffSession)).first() is None


def test_console_login_limit_per_address(app, admin, clock):
    app.config["FOOF_ADMIN_LOGINS_PER_IP"] = 3
    client = app.test_client()
    for n in range(3):
        assert log_in(client, "1390000009" + str(n), "x").status_code == 400
    reply = log_in(client)  # the right password, but this address used its attempts
    assert reply.status_code == 400 and "登录失败次数过多" in reply.get_data(as_text=True)
    clock.advance(901)
    assert log_in(client).status_code == 302


def test_disabled_or_demoted_staff_lose_the_console_at_once(app, console, admin):
    assert console.get("/admin").status_code == 200
    with app.app_context():
        cards.grant_role(ADMIN_PHONE, "student")
    assert console.get("/admin").status_code == 302
    with app.app_context():
        cards.grant_role(ADMIN_PHONE, "moderator")
    assert log_in(console).status_code == 302
    from foof.domain import moderation

    with app.app_context():
        moderation.disable(admin, "left the job")
    assert console.get("/admin").status_code == 302
    assert "该账号已被停用" in log_in(console).get_data(as_text=True)


def test_csrf_token_is_bound_to_the_session(app, console, make_user):
    victim = make_user("13700000001", "x")
    other = app.test_client()
    assert log_in(other).status_code == 302
    foreign_token = csrf(other, "/admin/users?q=137")
    reply = console.post(f"/admin/users/{victim}/disable", data={"csrf_token": foreign_token, "reason": "x"})
    assert "m=expired" in reply.headers["Location"]
    reply = console.post(f"/admin/users/{victim}/disable", data={"reason": "x"})
    assert "m=expired" in reply.headers["Location"]
    with app.app_context():
        from foof.domain import moderation

        assert not moderation.is_disabled(victim)


# -- dashboard -------------------------------------------------------------------------------------
def test_dashboard_counts_and_chart(app, console, make_user, clock):
    seller = make_user("13700000002", "x", verified=1)
    with app.app_context():
        for n in range(3):
            listings.add(seller, {"title": f"书{n}", "type": 6, "price": 1, "depreciatione": 50, "sold": 1})
    page = console.get("/admin").get_data(as_text=True)
    assert re.search(r'id="stat-users">2<', page) and re.search(r'id="stat-verified">1<', page)
    assert re.search(r'id="stat-on-sale">3<', page)
    assert "<svg" in page and "新增 3" in page and "最近 30 天</strong>：新增商品 3，成交 0" in page


# -- student cards ---------------------------------------------------------------------------------
def test_card_queue_approve_and_reject(app, console):
    alice, bob = Person(app, "alice_s"), Person(app, "bob_s")
    ok(upload(alice.client, "POST", "/users/detail/studentcard", png()))
    ok(upload(bob.client, "POST", "/users/detail/studentcard", png(24, 24)))
    page = console.get("/admin/cards").get_data(as_text=True)
    assert "alice_s" in page and "bob_s" in page
    image = console.get(f"/admin/cards/{alice.uuid}/image")
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    image.close()
    assert console.get("/admin/cards/999/image").status_code == 404
    outsider = app.test_client()
    assert outsider.get(f"/admin/cards/{alice.uuid}/image").status_code == 302
    with app.app_context():
        card_a, card_b = (cards.review_of(p.uuid).card for p in (alice, bob))
    reply = post(console, f"/admin/cards/{alice.uuid}/approve", "/admin/cards", card=card_a)
    assert "m=approved" in reply.headers["Location"]
    assert (
        "m=need-reason"
        in post(console, f"/admin/cards/{bob.uuid}/reject", "/admin/cards", card=card_b).headers["Location"]
    )
    reply = post(console, f"/admin/cards/{bob.uuid}/reject", "/admin/cards", card=card_b, reason="看不清")
    assert "m=rejected" in reply.headers["Location"]
    assert (
        "m=card-changed"
        in post(console, f"/admin/cards/{bob.uuid}/approve", "/admin/cards", card=card_b).headers["Location"]
    )
    assert ok(alice("GET", "/users/detail"))["identified"] == "1"
    detail = ok(bob("GET", "/users/detail"))
    assert (detail["identified"], detail["studentCardState"], detail["studentCardReason"]) == ("0", "2", "看不清")
    assert app.test_client().get(f"/user/{alice.uuid}").json["verified"] == 1
    assert [a[0] for a in audit_rows(app)] == ["role.grant", "card.approve", "card.reject"]


# -- reports -------------------------------------------------------------------------------------------
def test_report_queue_take_down(app, console, client):
    seller, reporter = Person(app, "seller_r"), Person(app, "reporter_r")
    pid = seller.add_product("仿冒球鞋")
    ok(reporter("POST", "/reports", {"kind": "product", "id": pid, "reason": "fake", "note": "明显是假货"}))
    page = console.get("/admin/reports").get_data(as_text=True)
    assert "仿冒球鞋" in page and "明显是假货" in page and "虚假或误导信息" in page
    with app.app_context():
        from foof.models import Report

        rid = db.session.execute(select(Report.id)).scalar()
    reply = post(console, f"/admin/reports/{rid}/resolve", "/admin/reports", action="takedown", reason="假货")
    assert "m=resolved" in reply.headers["Location"]
    assert call(client, "GET", f"/products/detail/{pid}").json["state"] == 4006
    assert client.get(f"/item/{int(pid)}").json.get("status") != "success"
    again = post(console, f"/admin/reports/{rid}/resolve", "/admin/reports", action="dismiss")
    assert "m=report-gone" in again.headers["Location"]
    bad = post(console, f"/admin/reports/{rid}/resolve", "/admin/reports", action="explode")
    assert "m=invalid" in bad.headers["Location"]
    assert ("item.takedown", "item", int(pid)) in audit_rows(app)


# -- users ---------------------------------------------------------------------------------------------
def test_users_search_disable_enable_unlock(app, console, client, make_user):
    uuid = make_user("13700000009", sha1("pw"))
    token = client.post("/user/login", data={"phonenumber": "13700000009", "password": sha1("pw")}).json["token"]
    with app.app_context():
        itemid = listings.add(uuid, {"title": "自行车", "type": 3, "price": 100, "depreciatione": 80, "sold": 1}).itemid
    for query in ("1370000", str(uuid)):
        page = console.get(f"/admin/users?q={query}").get_data(as_text=True)
        assert f'id="user-{uuid}"' in page, query
    assert "没有找到" in console.get("/admin/users?q=%25").get_data(as_text=True)  # % is not a wildcard
    reply = post(console, f"/admin/users/{uuid}/disable?q=137", "/admin/users?q=137", reason="诈骗")
    assert "m=disabled" in reply.headers["Location"]
    assert client.post("/user/me", data={"token": token}).status_code == 403
    assert client.get(f"/item/{itemid}").json.get("status") != "success"
    assert "已停用" in console.get("/admin/users?q=137").get_data(as_text=True)
    assert "m=enabled" in post(console, f"/admin/users/{uuid}/enable", "/admin/users?q=137").headers["Location"]
    with app.app_context():
        assert db.session.get(Item, itemid).sold == 1
    for _ in range(10):
        client.post("/user/login", data={"phonenumber": "13700000009", "password": sha1("no")})
    assert (
        client.post("/user/login", data={"phonenumber": "13700000009", "password": sha1("pw")}).json["status"]
        == "failure"
    )
    assert "登录失败 10 次" in console.get("/admin/users?q=13700000009").get_data(as_text=True)
    assert "m=unlocked" in post(console, f"/admin/users/{uuid}/unlock", "/admin/users?q=1").headers["Location"]
    assert (
        client.post("/user/login", data={"phonenumber": "13700000009", "password": sha1("pw")}).json["status"]
        == "success"
    )
    assert [a[0] for a in audit_rows(app)][1:] == ["user.disable", "user.enable", "user.unlock"]


def test_staff_cannot_be_disabled_from_the_console(app, console, admin):
    reply = post(console, f"/admin/users/{admin}/disable", "/admin/users?q=1", reason="x")
    assert "m=staff" in reply.headers["Location"]
    assert console.get("/admin").status_code == 200


# -- audit log --------------------------------------------------------------------------------------
def test_audit_log_is_shown_and_read_only(app, console, make_user):
    uuid = make_user("13700000010", "x")
    post(console, f"/admin/users/{uuid}/disable", "/admin/users?q=1", reason="刷屏广告")
    page = console.get("/admin/audit").get_data(as_text=True)
    assert "user.disable" in page and "刷屏广告" in page and f"#{uuid}" in page and "命令行" in page
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/admin/audit")]
    assert [sorted(r.methods - {"HEAD", "OPTIONS"}) for r in rules] == [["GET"]]
    assert console.post("/admin/audit").status_code in (404, 405)  # no way to write


def test_first_admin_from_the_command_line(app, runner):
    """docs/administration.md §2: create-user, grant-role, then the console login works."""
    assert runner.invoke(args=["create-user", "13900000077", "typed-pw-1"]).exit_code == 0
    client = app.test_client()
    assert "没有后台权限" in log_in(client, "13900000077", "typed-pw-1").get_data(as_text=True)
    assert runner.invoke(args=["grant-role", "13900000077", "admin"]).exit_code == 0
    assert log_in(client, "13900000077", "typed-pw-1").status_code == 302
    assert client.get("/admin").status_code == 200


def test_logging_in_again_ends_the_browsers_previous_session(app, console):
    with app.app_context():
        [first] = db.session.execute(select(StaffSession.sid_hash)).scalars().all()
    token = csrf(console, "/admin")  # logged in: the form token is the session's
    reply = console.post("/admin/login", data={"csrf_token": token, "phone": ADMIN_PHONE, "password": ADMIN_PASSWORD})
    assert reply.status_code == 302
    with app.app_context():
        [second] = db.session.execute(select(StaffSession.sid_hash)).scalars().all()
    assert second != first
    assert console.get("/admin").status_code == 200


def test_dashboard_counts_a_completed_trade_today(app, console, make_user):
    seller, buyer = make_user("13700000031", "x"), make_user("13700000032", "y")
    from foof.domain import orders

    with app.app_context():
        itemid = listings.add(seller, {"title": "吉他", "type": 8, "price": 300, "depreciatione": 70, "sold": 1}).itemid
        order = orders.create(buyer, itemid, "0")
        orders.change_state(buyer, order, "2")
    page = console.get("/admin").get_data(as_text=True)
    assert "新增商品 1，成交 1" in page
    assert re.search(r'id="stat-on-sale">0<', page)


def test_a_password_change_ends_the_console_session(app, console, admin):
    from foof.domain import accounts
    from foof.domain.tx import atomic

    assert console.get("/admin").status_code == 200
    with app.app_context():
        atomic(accounts.password_changed, admin)
    assert console.get("/admin").status_code == 302
