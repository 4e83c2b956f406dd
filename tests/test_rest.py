"""The secondhand face's error table and rules (docs/rest-api.md), provoked through the HTTP routes.

Every handled error is the envelope ``{"state":…,"message":…,"data":null}`` with HTTP 200,
except 4003 (HTTP 401) and 4004 (HTTP 403). Each test sets up its state through the real
routes (register, log in, add products, buy) with one test client, and so one session
cookie, per person.
"""

import io
import json
import os
import re

import pytest
from PIL import Image
from sqlalchemy import func, select

from foof.extensions import db
from foof.models import Item, Order

JSON_TYPE = "application/json; charset=utf-8"
MESSAGES = {
    4000: "用户名已经被占用",
    4001: "用户数据不存在",
    4002: "密码验证失败",
    4003: "用户未登录",
    4004: "无权操作",
    4005: "输入数据不合法",
    4006: "商品不存在！",
    4007: "订单状态不支持修改",
    6000: "上传文件为空！",
}
HTTP_STATUS = {4003: 401, 4004: 403}
OK = {"state": 200, "message": None, "data": None}
MIB = 1024 * 1024


@pytest.fixture
def config(config, tmp_path):
    config["FOOF_UPLOAD_ROOT"] = str(tmp_path / "upload")
    return config


# --- helpers -------------------------------------------------------------------------------


def call(client, method, path, body=None, **kwargs):
    """Send ``body`` as JSON (keys in order); return the reply after checking the envelope."""
    if body is not None:
        kwargs.update(data=json.dumps(body, ensure_ascii=False), content_type="application/json")
    reply = client.open(path, method=method, **kwargs)
    assert reply.headers["Content-Type"] == JSON_TYPE, (path, reply.status_code, reply.get_data()[:200])
    answer = json.loads(reply.get_data())
    assert list(answer) == ["state", "message", "data"], answer
    return reply


def envelope(reply):
    return json.loads(reply.get_data())


def assert_refused(reply, state, message=None):
    """The handled error ``state``: its HTTP status, its message, data null."""
    answer = envelope(reply)
    expected_message = MESSAGES.get(state) if message is None else message
    assert answer["state"] == state, answer
    assert reply.status_code == HTTP_STATUS.get(state, 200), (reply.status_code, answer)
    if expected_message is not None:
        assert answer["message"] == expected_message, answer
    else:
        assert isinstance(answer["message"], str) and answer["message"], answer
    assert answer["data"] is None, answer


def ok(reply):
    answer = envelope(reply)
    assert (reply.status_code, answer["state"], answer["message"]) == (200, 200, None), answer
    return answer["data"]


def png(width=16, height=16, colour=(10, 200, 30)):
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def noise_png(width, height):
    """A PNG that does not compress: about 3 bytes per pixel."""
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(out, "PNG", compress_level=0)
    return out.getvalue()


def upload(client, method, path, data, filename="a.png", content_type="image/png", field="file"):
    return call(
        client,
        method,
        path,
        data={field: (io.BytesIO(data), filename, content_type)},
        content_type="multipart/form-data",
    )


def multipart_by_hand(data, filename="big.png", content_type="image/png", field="file"):
    """``(body, content type)`` of a one-file multipart body, built in memory (the test
    client would spool a big body to a temporary file it never closes)."""
    boundary = "----foofboundary7MA4YWxkTrZu0gW"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return head + data + tail, f"multipart/form-data; boundary={boundary}"


class Person:
    def __init__(self, app, name, password="123456", answer="happy"):
        self.client = app.test_client()
        self.name, self.password, self.answer = name, password, answer
        ok(
            call(
                self.client,
                "POST",
                "/users",
                {"username": name, "password": password, "resetQuestion": "我最喜欢的颜色", "resetAnswer": answer},
            )
        )
        self.id = ok(call(self.client, "POST", "/users/sessions", {"username": name, "password": password}))["id"]
        self.uuid = int(self.id)

    def __call__(self, method, path, body=None, **kwargs):
        return call(self.client, method, path, body, **kwargs)

    def add_product(self, name="台灯", price="25", category="00001", **extra):
        body = {
            "name": name,
            "category": category,
            "description": f"{name}，九成新",
            "location": "1",
            "price": price,
            "tags": name,
            **extra,
        }
        return ok(self("POST", "/products", body))

    def buy(self, pid, trans="0"):
        return self("POST", f"/orders/{pid}?trans={trans}")


@pytest.fixture
def people(app):
    """seller, buyer, stranger: registered and logged in, each with its own session cookie."""
    return {name: Person(app, name) for name in ("seller", "buyer", "stranger")}


def pad(n, width=20):
    return f"{int(n):0{width}d}"


def order_ids(person, which):
    return [entry["id"] for entry in ok(person("GET", f"/orders/{which}"))]


def the_order(person, which="buy"):
    entries = ok(person("GET", f"/orders/{which}"))
    assert len(entries) == 1, entries
    return entries[0]


def product_state(app, pid):
    with app.app_context():
        item = db.session.get(Item, int(pid))
        return item.sold, item.to


# --- the envelope --------------------------------------------------------------------------


def test_envelope_bytes(app):
    client = app.test_client()
    reply = client.post(
        "/users",
        data=json.dumps({"username": "lower111", "password": "123456", "resetQuestion": "3", "resetAnswer": "happy"}),
        content_type="application/json",
    )
    assert (reply.status_code, reply.headers["Content-Type"], reply.get_data()) == (
        200,
        JSON_TYPE,
        b'{"state":200,"message":null,"data":null}',
    )
    reply = client.post(
        "/users",
        data=json.dumps({"username": "lower111", "password": "123456", "resetQuestion": "3", "resetAnswer": "happy"}),
        content_type="application/json",
    )
    assert (reply.status_code, reply.get_data().decode()) == (
        200,
        '{"state":4000,"message":"用户名已经被占用","data":null}',
    )


def test_form_bodies_are_read_like_json(app):
    client = app.test_client()
    ok(
        call(
            client,
            "POST",
            "/users",
            data={"username": "formuser", "password": "123456", "resetQuestion": "q", "resetAnswer": "a"},
        )
    )
    assert (
        ok(call(client, "POST", "/users/sessions", data={"username": "formuser", "password": "123456"}))["id"]
        == "0000000001"
    )


# --- 4000 ----------------------------------------------------------------------------------


def test_4000_username_taken(app, people):
    reply = call(
        app.test_client(),
        "POST",
        "/users",
        {"username": "seller", "password": "abcdefg", "resetQuestion": "q", "resetAnswer": "a"},
    )
    assert_refused(reply, 4000)
    # the first account is untouched: its password still works, the second one's does not
    assert (
        ok(call(app.test_client(), "POST", "/users/sessions", {"username": "seller", "password": "123456"}))["id"]
        == people["seller"].id
    )
    assert_refused(
        call(app.test_client(), "POST", "/users/sessions", {"username": "seller", "password": "abcdefg"}), 4002
    )


# --- 4001 / 4002 ---------------------------------------------------------------------------


def test_4001_unknown_user_at_login(app, people):
    assert_refused(
        call(app.test_client(), "POST", "/users/sessions", {"username": "nobody", "password": "123456"}), 4001
    )


def test_4002_wrong_password_at_login(app, people):
    client = app.test_client()
    assert_refused(call(client, "POST", "/users/sessions", {"username": "seller", "password": "1234567"}), 4002)
    assert_refused(call(client, "GET", "/users/detail"), 4003)  # no session was opened


def test_4002_change_password_with_wrong_old_password(app, people):
    seller = people["seller"]
    assert_refused(seller("PATCH", "/users/password", {"oldPassword": "wrong!", "newPassword": "654321"}), 4002)
    # unchanged: the old password logs in, the new one does not
    assert ok(call(app.test_client(), "POST", "/users/sessions", {"username": "seller", "password": "123456"}))
    assert_refused(
        call(app.test_client(), "POST", "/users/sessions", {"username": "seller", "password": "654321"}), 4002
    )
    # with the right old password it changes
    assert ok(seller("PATCH", "/users/password", {"oldPassword": "123456", "newPassword": "654321"})) is None
    assert ok(call(app.test_client(), "POST", "/users/sessions", {"username": "seller", "password": "654321"}))
    assert_refused(
        call(app.test_client(), "POST", "/users/sessions", {"username": "seller", "password": "123456"}), 4002
    )


# --- 4003 ----------------------------------------------------------------------------------

REST_PREFIXES = ("/users", "/products", "/orders", "/alipay", "/upload")
#: (method, rule) a visitor without a session may call; every other REST rule is login-only.
PUBLIC = {
    ("POST", "/users"),
    ("POST", "/users/sessions"),
    ("DELETE", "/users/sessions"),
    ("POST", "/users/password/reset"),
    ("GET", "/products"),
    ("GET", "/products/<cid>"),
    ("GET", "/products/detail/<pid>"),
    ("GET", "/upload/<path:name>"),  # pictures; student cards only to their owner (tested below)
    ("POST", "/alipay/response"),  # Alipay's own notices
}
#: Login-only routes the seed and docs/rest-api.md name; the url_map must have at least these.
KNOWN_LOGIN_ONLY = {
    ("PATCH", "/users/password"),
    ("GET", "/users/detail"),
    ("POST", "/users/detail"),
    ("PATCH", "/users/detial/avatar"),
    ("PATCH", "/users/detial/studentcard"),
    ("POST", "/users/detail/avatar"),
    ("PATCH", "/users/detail/avatar"),
    ("POST", "/users/detail/studentcard"),
    ("PATCH", "/users/detail/studentcard"),
    ("POST", "/products"),
    ("PATCH", "/products/<pid>"),
    ("DELETE", "/products/<pid>"),
    ("PATCH", "/products/img/<pid>"),
    ("POST", "/products/img/<pid>"),
    ("POST", "/orders/<key>"),
    ("GET", "/orders/buy"),
    ("GET", "/orders/sell"),
    ("POST", "/orders/state/<order_id>"),
    ("POST", "/alipay/info"),
}


def login_only_rules(app):
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(REST_PREFIXES):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (method, rule.rule) not in PUBLIC:
                found.add((method, rule.rule))
    return found


def concrete(rule):
    return re.sub(r"<(?:[^:>]+:)?[^>]+>", "1", rule)


def test_4003_on_every_login_only_route(app, people):
    rules = login_only_rules(app)
    missing = {
        (m, r)
        for m, r in KNOWN_LOGIN_ONLY
        if (m, re.sub(r"<[^>]+>", "<x>", r)) not in {(mm, re.sub(r"<[^>]+>", "<x>", rr)) for mm, rr in rules}
    }
    assert not missing, f"login-only routes missing from the url_map: {sorted(missing)}"
    product = people["seller"].add_product()
    assert product == "1"
    failures = []
    for method, rule in sorted(rules):
        path = concrete(rule)  # "1": the product (and user) that exists
        for label, headers in (("no session", {}), ("bad bearer", {"Authorization": "Bearer not.a.token"})):
            reply = app.test_client().open(
                path,
                method=method,
                headers=headers,
                data=json.dumps({"name": "x", "price": "1"}),
                content_type="application/json",
            )
            body = reply.get_data()
            if (reply.status_code, reply.headers.get("Content-Type"), body) != (
                401,
                JSON_TYPE,
                '{"state":4003,"message":"用户未登录","data":null}'.encode(),
            ):
                failures.append(f"{method} {path} ({label}): {reply.status_code} {body[:120]!r}")
    assert not failures, "\n".join(failures)
    # nothing was changed by the refused calls
    assert product_state(app, product) == (1, 0)


def test_logout_ends_the_session(app, people):
    seller = people["seller"]
    assert ok(seller("GET", "/users/detail"))["id"] == seller.id
    assert ok(seller("DELETE", "/users/sessions")) is None
    assert_refused(seller("GET", "/users/detail"), 4003)
    assert_refused(seller("POST", "/products", {"name": "x", "price": "1"}), 4003)


def test_a_session_cookie_copied_before_logout_is_dead_after_it(app, people):
    """Logging out must end the session itself, not only delete the browser's copy."""
    seller = people["seller"]
    cookie = seller.client.get_cookie("session")
    assert cookie is not None
    assert ok(seller("DELETE", "/users/sessions")) is None
    replay = app.test_client()
    replay.set_cookie("session", cookie.value)
    assert_refused(call(replay, "GET", "/users/detail"), 4003)


def test_session_cookie_is_httponly(app):
    client = app.test_client()
    ok(
        call(
            client,
            "POST",
            "/users",
            {"username": "cookie", "password": "123456", "resetQuestion": "q", "resetAnswer": "a"},
        )
    )
    reply = call(client, "POST", "/users/sessions", {"username": "cookie", "password": "123456"})
    cookies = reply.headers.getlist("Set-Cookie")
    session = [c for c in cookies if c.startswith("session=")]
    assert session, cookies
    attributes = [part.strip().lower() for part in session[0].split(";")[1:]]
    assert "httponly" in attributes, session[0]
    # the cookie is signed: a forged one (another uid) is no session
    forged = app.test_client()
    forged.set_cookie("session", session[0].split(";")[0].split("=", 1)[1][:-4] + "AAAA")
    assert_refused(call(forged, "GET", "/users/detail"), 4003)


# --- 4004 ----------------------------------------------------------------------------------


def test_4004_someone_elses_product(app, people):
    seller, stranger = people["seller"], people["stranger"]
    pid = seller.add_product("台灯", "25")
    before = ok(call(app.test_client(), "GET", f"/products/detail/{pid}"))
    assert_refused(stranger("PATCH", f"/products/{pid}", {"name": "我的台灯", "price": "1"}), 4004)
    assert_refused(upload(stranger.client, "PATCH", f"/products/img/{pid}", png()), 4004)
    assert_refused(upload(stranger.client, "POST", f"/products/img/{pid}", png()), 4004)
    assert_refused(stranger("DELETE", f"/products/{pid}"), 4004)
    assert ok(call(app.test_client(), "GET", f"/products/detail/{pid}")) == before
    assert not os.path.exists(app.config["FOOF_UPLOAD_ROOT"]) or not any(
        name.startswith("p") for name in os.listdir(app.config["FOOF_UPLOAD_ROOT"])
    )


def test_4004_someone_elses_order(app, people):
    seller, buyer, stranger = people["seller"], people["buyer"], people["stranger"]
    pid = seller.add_product()
    ok(buyer.buy(pid))
    order = the_order(buyer)
    oid = order["id"]
    assert_refused(stranger("POST", f"/orders/state/{oid}?state=1"), 4004)
    assert_refused(stranger("POST", f"/orders/state/{oid}?state=2"), 4004)
    assert_refused(stranger("POST", f"/orders/{oid}?type=1&number=123456"), 4004)
    assert_refused(stranger("POST", f"/orders/{oid}?type=2&number=123456"), 4004)
    assert the_order(buyer) == order
    assert product_state(app, pid) == (3, buyer.uuid)


# --- 4005 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("price", ["abc", "-1", "", None, "1e400", "NaN", True, [1]])
def test_4005_bad_price(app, people, price):
    body = {"name": "台灯", "category": "00001", "description": "d", "location": "1", "price": price, "tags": "t"}
    assert_refused(people["seller"]("POST", "/products", body), 4005)
    assert ok(call(app.test_client(), "GET", "/products")) == []


def test_4005_missing_name(app, people):
    seller = people["seller"]
    assert_refused(
        seller("POST", "/products", {"category": "00001", "description": "d", "location": "1", "price": "3"}), 4005
    )
    assert_refused(seller("POST", "/products", {"name": "", "category": "00001", "price": "3"}), 4005)
    assert ok(call(app.test_client(), "GET", "/products")) == []


def test_4005_bad_update(app, people):
    seller = people["seller"]
    pid = seller.add_product("台灯", "25")
    assert_refused(seller("PATCH", f"/products/{pid}", {"price": "free"}), 4005)
    assert_refused(seller("PATCH", f"/products/{pid}", {"name": ""}), 4005)
    assert ok(call(app.test_client(), "GET", f"/products/detail/{pid}"))["price"] == 25.0


@pytest.mark.parametrize("trans", ["2", "x", "-1"])
def test_4005_bad_trans(app, people, trans):
    pid = people["seller"].add_product()
    assert_refused(people["buyer"].buy(pid, trans), 4005)
    assert product_state(app, pid) == (1, 0)
    assert ok(people["buyer"]("GET", "/orders/buy")) == []


@pytest.mark.parametrize(
    "body",
    [
        {"username": "ab", "password": "123456", "resetQuestion": "q", "resetAnswer": "a"},
        {"username": "newuser", "password": "", "resetQuestion": "q", "resetAnswer": "a"},
        {"username": "newuser", "password": "123456"},
        {"password": "123456", "resetQuestion": "q", "resetAnswer": "a"},
    ],
)
def test_4005_bad_registration(app, body):
    assert_refused(call(app.test_client(), "POST", "/users", body), 4005)


def test_own_product_cannot_be_bought(app, people):
    seller = people["seller"]
    pid = seller.add_product()
    answer = envelope(seller.buy(pid))
    assert answer["state"] != 200
    assert product_state(app, pid) == (1, 0)


# --- 4006 ----------------------------------------------------------------------------------


def test_4006_buying_a_sold_missing_or_taken_down_product(app, people):
    seller, buyer, stranger = people["seller"], people["buyer"], people["stranger"]
    pid = seller.add_product()
    ok(buyer.buy(pid))
    assert_refused(stranger.buy(pid), 4006)
    assert_refused(buyer.buy(pid), 4006)
    assert_refused(stranger.buy("999"), 4006)
    assert_refused(stranger.buy("abc"), 4006)
    gone = seller.add_product("旧书", "3")
    ok(seller("DELETE", f"/products/{gone}"))
    assert_refused(stranger.buy(gone), 4006)
    assert product_state(app, pid) == (3, buyer.uuid)
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Order)).scalar() == 1


def test_4006_unknown_product_everywhere(app, people):
    seller = people["seller"]
    assert_refused(call(app.test_client(), "GET", "/products/detail/999"), 4006)
    assert_refused(seller("PATCH", "/products/999", {"price": "1"}), 4006)
    assert_refused(seller("DELETE", "/products/999"), 4006)
    assert_refused(upload(seller.client, "PATCH", "/products/img/999", png()), 4006)


# --- 4007 ----------------------------------------------------------------------------------


def test_4007_completed_and_cancelled_orders_cannot_change(app, people):
    seller, buyer = people["seller"], people["buyer"]
    done, cancelled = seller.add_product("台灯", "25"), seller.add_product("书桌", "80")
    ok(buyer.buy(done))
    ok(buyer.buy(cancelled))
    by_pid = {int(o["pid"]): o["id"] for o in ok(buyer("GET", "/orders/buy"))}
    ok(seller("POST", f"/orders/state/{by_pid[int(done)]}?state=2"))
    ok(buyer("POST", f"/orders/state/{by_pid[int(cancelled)]}?state=1"))
    for oid in by_pid.values():
        for who in (buyer, seller):
            for state in ("1", "2"):
                assert_refused(who("POST", f"/orders/state/{oid}?state={state}"), 4007)
            assert_refused(who("POST", f"/orders/{oid}?type=2&number=998877"), 4007)
        # issue #11: only the seller enters a pay id by hand; the buyer is refused before the state
        assert_refused(seller("POST", f"/orders/{oid}?type=1&number=998877"), 4007)
        assert_refused(buyer("POST", f"/orders/{oid}?type=1&number=998877"), 4004)
    states = {int(o["pid"]): (o["state"], o["payId"], o["expressNumber"]) for o in ok(buyer("GET", "/orders/buy"))}
    assert states == {int(done): ("2", None, None), int(cancelled): ("1", None, None)}
    assert product_state(app, done) == (2, buyer.uuid)
    assert product_state(app, cancelled) == (1, 0)


def test_4007_unknown_order(app, people):
    buyer = people["buyer"]
    assert_refused(buyer("POST", "/orders/state/999?state=1"), 4007)
    assert_refused(buyer("POST", f"/orders/{pad(999)}?type=1&number=1234"), 4007)


def test_bad_order_parameters(app, people):
    seller, buyer = people["seller"], people["buyer"]
    pid = seller.add_product()
    ok(buyer.buy(pid))
    oid = the_order(buyer)["id"]
    assert_refused(buyer("POST", f"/orders/state/{oid}?state=0"), 4005)
    assert_refused(buyer("POST", f"/orders/state/{oid}?state=3"), 4005)
    assert_refused(buyer("POST", f"/orders/{oid}?type=3&number=1234"), 4005)
    assert_refused(buyer("POST", f"/orders/{oid}?type=1&number="), 4005)
    assert the_order(buyer)["state"] == "0"


# --- uploads: 6000, 6001, 6002 -------------------------------------------------------------

UPLOAD_ROUTES = [
    ("PATCH", "/users/detial/avatar"),
    ("POST", "/users/detail/avatar"),
    ("PATCH", "/users/detial/studentcard"),
    ("POST", "/users/detail/studentcard"),
    ("PATCH", "/products/img/{pid}"),
    ("POST", "/products/img/{pid}"),
]


def upload_files(app):
    root = app.config["FOOF_UPLOAD_ROOT"]
    found = []
    for folder, _, names in os.walk(root):
        found += [os.path.relpath(os.path.join(folder, n), root) for n in names]
    return sorted(found)


@pytest.mark.parametrize("method,route", UPLOAD_ROUTES)
def test_6000_empty_upload(app, people, method, route):
    seller = people["seller"]
    path = route.format(pid=seller.add_product())
    assert_refused(upload(seller.client, method, path, b""), 6000)
    assert_refused(seller(method, path, data={}, content_type="multipart/form-data"), 6000)
    assert upload_files(app) == []


@pytest.mark.parametrize("method,route", UPLOAD_ROUTES)
def test_6001_upload_over_10_mib_is_an_envelope(app, people, method, route):
    seller = people["seller"]
    pid = seller.add_product()
    path = route.format(pid=pid)
    body, content_type = multipart_by_hand(b"\x89PNG\r\n\x1a\n" + b"\0" * (10 * MIB))
    reply = seller.client.open(path, method=method, data=body, content_type=content_type)
    assert reply.headers["Content-Type"] == JSON_TYPE, (reply.status_code, reply.get_data()[:100])
    answer = envelope(reply)
    assert list(answer) == ["state", "message", "data"]
    assert_refused(reply, 6001, message=_message_of(answer))
    assert upload_files(app) == []
    detail = ok(seller("GET", "/users/detail"))
    assert (detail["avatar"], detail["studentCard"]) == ("/", None)
    assert ok(call(app.test_client(), "GET", f"/products/detail/{pid}"))["img"] == "/"


def _message_of(answer):
    assert isinstance(answer["message"], str) and answer["message"], answer
    return answer["message"]


def test_uploads_between_1_and_10_mib_are_accepted(app, people):
    """The legacy face's 1 MiB limit does not apply here: the original allowed 10 MiB."""
    seller = people["seller"]
    picture = noise_png(760, 760)
    assert MIB < len(picture) < 10 * MIB
    body, content_type = multipart_by_hand(picture)
    reply = seller.client.open("/users/detial/avatar", method="PATCH", data=body, content_type=content_type)
    path = ok(reply)
    assert re.fullmatch(r"/upload/[0-9a-f-]{36}\.jpg", path), path
    assert ok(seller("GET", "/users/detail"))["avatar"] == path


@pytest.mark.parametrize("method,route", UPLOAD_ROUTES)
@pytest.mark.parametrize(
    "payload,filename,content_type",
    [
        (b"<html><script>alert(1)</script></html>", "evil.jpg", "image/jpeg"),
        (b"GIF89a not really", "fake.gif", "image/gif"),
        (b"%PDF-1.4 hello", "doc.pdf", "application/pdf"),
    ],
    ids=["html-as-jpg", "truncated-gif", "pdf"],
)
def test_6002_not_an_image(app, people, method, route, payload, filename, content_type):
    seller = people["seller"]
    pid = seller.add_product()
    reply = upload(seller.client, method, route.format(pid=pid), payload, filename, content_type)
    assert_refused(reply, 6002, message=_message_of(envelope(reply)))
    assert upload_files(app) == []


def test_uploads_are_reencoded_jpegs(app, people):
    seller = people["seller"]
    pid = seller.add_product()
    paths = [
        ok(upload(seller.client, "PATCH", "/users/detial/avatar", png(40, 30))),
        ok(upload(seller.client, "PATCH", "/users/detial/studentcard", png(40, 30))),
        ok(upload(seller.client, "PATCH", f"/products/img/{pid}", png(40, 30))),
    ]
    assert re.fullmatch(r"/upload/[0-9a-f-]{36}\.jpg", paths[0])
    assert re.fullmatch(r"/upload/student/[0-9a-f-]{36}\.jpg", paths[1])
    assert re.fullmatch(r"/upload/p[0-9a-f-]{36}\.jpg", paths[2])
    for path in paths:
        with Image.open(os.path.join(app.config["FOOF_UPLOAD_ROOT"], path[len("/upload/") :])) as im:
            assert im.format == "JPEG"


# --- detail: role and identified -----------------------------------------------------------


def test_role_and_identified_cannot_be_set_through_detail(app, people):
    seller = people["seller"]
    reply = seller(
        "POST",
        "/users/detail",
        {
            "role": "1",
            "identified": "1",
            "alias": "卖家",
            "studentCard": "/upload/student/x.jpg",
            "avatar": "/upload/x.jpg",
        },
    )
    assert envelope(reply)["state"] in (200, 4005)
    detail = ok(seller("GET", "/users/detail"))
    assert (detail["role"], detail["identified"], detail["studentCard"], detail["avatar"]) == ("3", "0", None, "/")
    # and alone, too
    seller("POST", "/users/detail", {"identified": "1"})
    seller("POST", "/users/detail", {"role": "0"})
    detail = ok(seller("GET", "/users/detail"))
    assert (detail["role"], detail["identified"]) == ("3", "0")


# --- forgotten password --------------------------------------------------------------------


def reset(client, username, answer, new):
    return call(
        client, "POST", "/users/password/reset", {"username": username, "resetAnswer": answer, "newPassword": new}
    )


def logs_in(app, username, password):
    return (
        envelope(call(app.test_client(), "POST", "/users/sessions", {"username": username, "password": password}))[
            "state"
        ]
        == 200
    )


def test_password_reset_with_the_right_answer(app, people):
    assert ok(reset(app.test_client(), "seller", "happy", "n3wpass")) is None
    assert logs_in(app, "seller", "n3wpass") and not logs_in(app, "seller", "123456")


def test_password_reset_wrong_answer_is_4002(app, people):
    assert_refused(reset(app.test_client(), "seller", "sad", "n3wpass"), 4002)
    assert logs_in(app, "seller", "123456") and not logs_in(app, "seller", "n3wpass")


def test_password_reset_unknown_user_is_4001(app, people):
    assert_refused(reset(app.test_client(), "nobody", "happy", "n3wpass"), 4001)


def test_password_reset_is_rate_limited_after_10_failures(app, people, clock):
    client = app.test_client()
    for _ in range(10):
        assert_refused(reset(client, "seller", "wrong", "n3wpass"), 4002)
    refused = envelope(reset(client, "seller", "happy", "n3wpass"))
    assert refused["state"] != 200 and refused["data"] is None, refused
    assert logs_in(app, "seller", "123456") and not logs_in(app, "seller", "n3wpass")
    # the limit is per account: another account's reset still works
    assert ok(reset(client, "buyer", "happy", "n3wpass")) is None
    # and it lifts after the window
    clock.advance(16 * 60)
    assert ok(reset(client, "seller", "happy", "n3wpass")) is None
    assert logs_in(app, "seller", "n3wpass")


# --- student cards only to their owner -----------------------------------------------------


def fetch(client, path):
    """``(status, content type, body)`` of a GET, the response closed (files are streamed)."""
    with client.get(path) as reply:
        return reply.status_code, reply.headers.get("Content-Type"), reply.get_data()


def test_student_card_served_only_to_its_owner(app, people):
    seller, stranger = people["seller"], people["stranger"]
    card = ok(upload(seller.client, "PATCH", "/users/detial/studentcard", png(50, 30)))
    avatar = ok(upload(seller.client, "PATCH", "/users/detial/avatar", png(20, 20)))
    status, content_type, body = fetch(seller.client, card)
    assert (status, content_type, body[:3]) == (200, "image/jpeg", b"\xff\xd8\xff")
    for label, client in (("anonymous", app.test_client()), ("another user", stranger.client)):
        status, _, body = fetch(client, card)
        assert status in (403, 404), (label, status)
        assert not body.startswith(b"\xff\xd8"), label
    # avatars are public
    assert fetch(app.test_client(), avatar)[:2] == (200, "image/jpeg")


@pytest.mark.parametrize(
    "trick",
    [
        lambda card: card.replace("/upload/student/", "/upload/./student/"),
        lambda card: card.replace("/upload/student/", "/upload/student/./"),
        lambda card: card.replace("/upload/student/", "/upload/x/../student/"),
        lambda card: card.replace("/upload/student/", "/upload//student/"),
        lambda card: card.replace("/upload/student/", "/upload/student//"),
        lambda card: card.replace("/upload/student/", "/upload/STUDENT/"),
        lambda card: card.replace("/upload/student/", "/upload/student%2F"),
    ],
    ids=["dot-before", "dot-after", "dotdot", "double-slash-before", "double-slash-after", "upper", "encoded-slash"],
)
def test_student_card_check_cannot_be_walked_around(app, people, trick):
    seller, stranger = people["seller"], people["stranger"]
    card = ok(upload(seller.client, "PATCH", "/users/detial/studentcard", png(50, 30)))
    path = trick(card)
    for label, client in (("anonymous", app.test_client()), ("another user", stranger.client)):
        status, _, body = fetch(client, path)
        assert not (status == 200 and body.startswith(b"\xff\xd8")), f"{label} got the student card at {path}"


# --- lists: newest first, page and size ----------------------------------------------------


def test_products_newest_first_with_page_and_size(app, people):
    seller = people["seller"]
    pids = [seller.add_product(f"商品{n}", str(n + 1), category="00001" if n % 2 else "00002") for n in range(5)]
    everyone = app.test_client()

    def ids(path):
        return [int(p["id"]) for p in ok(call(everyone, "GET", path))]

    newest = [int(p) for p in reversed(pids)]
    assert ids("/products") == newest
    assert ids("/products?page=1&size=2") == newest[:2]
    assert ids("/products?page=2&size=2") == newest[2:4]
    assert ids("/products?page=3&size=2") == newest[4:]
    assert ids("/products?page=4&size=2") == []
    assert ids("/products?size=3") == newest[:3]
    assert ids("/products/00001") == [n for n in newest if (n - 1) % 2]
    assert ids("/products/2?page=2&size=1") == [n for n in newest if not (n - 1) % 2][1:2]
    for bad in ("page=0", "size=0", "size=abc", "page=-1", "size=101"):
        assert_refused(call(everyone, "GET", f"/products?{bad}"), 4005)


def test_orders_newest_first(app, people):
    seller, buyer = people["seller"], people["buyer"]
    pids = [seller.add_product(f"商品{n}", "3") for n in range(3)]
    for pid in pids:
        ok(buyer.buy(pid))
    bought = ok(buyer("GET", "/orders/buy"))
    assert [int(o["pid"]) for o in bought] == [int(p) for p in reversed(pids)]
    assert [o["id"] for o in bought] == sorted((o["id"] for o in bought), reverse=True)
    assert [o["id"] for o in ok(seller("GET", "/orders/sell"))] == [o["id"] for o in bought]


# --- padded and unpadded ids ---------------------------------------------------------------


def test_padded_and_unpadded_ids_in_paths(app, people):
    seller, buyer = people["seller"], people["buyer"]
    pid = int(seller.add_product("台灯", "25"))
    everyone = app.test_client()
    for form in (str(pid), pad(pid), pad(pid, 5)):
        assert ok(call(everyone, "GET", f"/products/detail/{form}"))["id"] == pad(pid)
    ok(seller("PATCH", f"/products/{pad(pid)}", {"price": "26"}))
    ok(seller("PATCH", f"/products/{pid}", {"name": "护眼台灯"}))
    assert re.fullmatch(r"/upload/p.+\.jpg", ok(upload(seller.client, "PATCH", f"/products/img/{pad(pid)}", png())))
    assert re.fullmatch(r"/upload/p.+\.jpg", ok(upload(seller.client, "PATCH", f"/products/img/{pid}", png())))
    detail = ok(call(everyone, "GET", f"/products/detail/{pid}"))
    assert (detail["name"], detail["price"]) == ("护眼台灯", 26.0)
    # categories: "00001" and "1"
    assert ok(call(everyone, "GET", "/products/00001")) == ok(call(everyone, "GET", "/products/1"))
    # orders: padded pid, then the order by padded and unpadded id
    ok(buyer.buy(pad(pid)))
    oid = the_order(buyer)["id"]
    assert re.fullmatch(r"[0-9]{20}", oid)
    ok(seller("POST", f"/orders/{oid}?type=1&number=20230117"))  # issue #11: the seller enters a pay id
    ok(buyer("POST", f"/orders/{int(oid)}?type=2&number=SF1234567"))
    ok(seller("POST", f"/orders/state/{int(oid)}?state=2"))
    order = the_order(buyer)
    assert (order["payId"], order["expressNumber"], order["state"]) == ("20230117", "SF1234567", "2")
    # a second product taken down by its padded id
    other = int(seller.add_product("书", "3"))
    ok(seller("DELETE", f"/products/{pad(other)}"))
    assert_refused(call(everyone, "GET", f"/products/detail/{other}"), 4006)  # issue #11: deleted is gone


def test_ids_are_padded_strings_and_prices_floats(app, people):
    seller, buyer = people["seller"], people["buyer"]
    pid = seller.add_product("台灯", 25)  # a JSON number works like "25"
    assert pid == "1"
    detail = ok(call(app.test_client(), "GET", "/products/detail/1"))
    assert (detail["id"], detail["seller"], detail["category"], detail["state"]) == (
        pad(1),
        pad(seller.uuid, 10),
        "00001",
        "0",
    )
    raw = app.test_client().get("/products/detail/1").get_data().decode()
    assert '"price":25.0,' in raw
    ok(buyer.buy(pid))
    order = the_order(buyer)
    assert (
        order["seller"],
        order["buyer"],
        order["pid"],
        order["price"],
        order["transactionMode"],
        order["state"],
    ) == (pad(seller.uuid, 10), pad(buyer.uuid, 10), pad(1), 25.0, "0", "0")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", order["createTime"])


def test_order_creation_marks_the_product_sold_and_cancel_puts_it_back(app, people):
    seller, buyer = people["seller"], people["buyer"]
    pid = seller.add_product()
    ok(buyer.buy(pid, "1"))
    assert product_state(app, pid) == (3, buyer.uuid)
    assert ok(call(app.test_client(), "GET", "/products")) == []
    order = the_order(buyer)
    assert order["transactionMode"] == "1"
    ok(seller("POST", f"/orders/state/{order['id']}?state=1"))
    assert product_state(app, pid) == (1, 0)
    assert [p["id"] for p in ok(call(app.test_client(), "GET", "/products"))] == [pad(pid)]
