"""Issue #11 "Hold against a hostile student", the secondhand market's items:

* 4 — cross-site request forgery on the REST cookie session (SameSite, Secure, Origin/Referer
  and form bodies refused for cookie-authenticated unsafe requests);
* 6 — payment proof: only the seller enters a pay id by hand, once, marked unverified; a pay
  id from a verified Alipay notice is final;
* 7 — phones and deleted listings: a seller's phone only to logged-in viewers and only when
  published through the secondhand profile; deleted products are gone;
* 8 — one buyer emptying the market: open orders per buyer capped, orders per hour limited,
  on both faces, and holding when the orders are sent at once (through the real waitress
  service, on SQLite and on MariaDB when ``FOOF_TEST_DATABASE_URL`` names one).
"""

import base64
import io
import json
import threading
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from PIL import Image
from sqlalchemy import func, select

from foof.extensions import db
from foof.models import Item, Order, RateEvent, User
from tests.conftest import start_server, stop_server, table_snapshot

OK = (200, None)
FOREIGN = (403, 4004, "跨站请求被拒绝")
FORM = (403, 4004, "请使用 JSON 请求体")
TOO_MANY_OPEN = "未完成的订单过多，请先完成或取消已有订单"
TOO_FREQUENT = "下单过于频繁，请一小时后再试"
PUBLIC_URL = "https://market.example.edu.cn"


@pytest.fixture
def config(config, tmp_path):
    config["FOOF_UPLOAD_ROOT"] = str(tmp_path / "upload")
    config["FOOF_REGISTRATIONS_PER_IP_PER_DAY"] = 1000  # many accounts from the test client's address
    return config


# -- helpers -------------------------------------------------------------------------------------
def answer(reply):
    body = json.loads(reply.get_data())
    assert list(body) == ["state", "message", "data"], body
    return body


def ok(reply):
    body = answer(reply)
    assert (reply.status_code, body["state"], body["message"]) == (200, 200, None), body
    return body["data"]


def refusal(reply):
    body = answer(reply)
    assert body["data"] is None, body
    return reply.status_code, body["state"], body["message"]


def send_json(client, method, path, body=None, **kwargs):
    if body is not None:
        kwargs.update(data=json.dumps(body, ensure_ascii=False), content_type="application/json")
    return client.open(path, method=method, **kwargs)


class Person:
    """A secondhand account logged in with its own cookie jar (its own test client)."""

    def __init__(self, app, name):
        self.app, self.client = app, app.test_client()
        ok(
            send_json(
                self.client,
                "POST",
                "/users",
                {"username": name, "password": "123456", "resetQuestion": "q", "resetAnswer": "a"},
            )
        )
        self.id = ok(send_json(self.client, "POST", "/users/sessions", {"username": name, "password": "123456"}))["id"]
        self.uuid = int(self.id)

    def __call__(self, method, path, body=None, **kwargs):
        return send_json(self.client, method, path, body, **kwargs)

    def add_product(self, name="台灯", price="25"):
        return ok(
            self(
                "POST",
                "/products",
                {"name": name, "category": "00001", "description": name, "location": "1", "price": price, "tags": name},
            )
        )

    def buy(self, pid):
        return self("POST", f"/orders/{pid}?trans=0")


@pytest.fixture
def people(app):
    return {name: Person(app, name) for name in ("seller", "buyer", "stranger")}


def png():
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 200, 30)).save(out, "PNG")
    return out.getvalue()


def set_phone(app, uuid, phone):
    """The state ``POST /users/detail`` leaves once a number was added (SMS-proved)."""
    with app.app_context():
        db.session.get(User, uuid).phonenumber = phone
        db.session.commit()


def order_rows(app):
    with app.app_context():
        rows = db.session.execute(select(Order).order_by(Order.id)).scalars().all()
        return [(o.itemid, o.buyer, o.state, o.pay_id) for o in rows]


def item_state(app, itemid):
    with app.app_context():
        item = db.session.get(Item, itemid)
        return item.sold, item.to


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


# == 4. CSRF ======================================================================================
def session_cookie(reply):
    cookies = [v for v in reply.headers.getlist("Set-Cookie") if v.startswith("session=")]
    assert len(cookies) == 1, reply.headers
    return [part.strip().lower() for part in cookies[0].split(";")]


def log_in_reply(app):
    client = app.test_client()
    ok(
        send_json(
            client,
            "POST",
            "/users",
            {"username": "cookie", "password": "123456", "resetQuestion": "q", "resetAnswer": "a"},
        )
    )
    return send_json(client, "POST", "/users/sessions", {"username": "cookie", "password": "123456"})


def test_session_cookie_is_samesite_lax_and_httponly(app):
    attributes = session_cookie(log_in_reply(app))
    assert "samesite=lax" in attributes and "httponly" in attributes and "path=/" in attributes
    assert "secure" not in attributes  # FOOF_PUBLIC_URL is http://localhost:4000


@pytest.mark.parametrize(
    ("public_url", "setting", "secure"),
    [
        (PUBLIC_URL, "auto", True),
        ("http://localhost:4000", "auto", False),
        ("http://localhost:4000", "1", True),
        (PUBLIC_URL, "0", False),
        (PUBLIC_URL, "off", False),
    ],
)
def test_session_cookie_secure_follows_the_setting(config, request, public_url, setting, secure):
    config.update(FOOF_PUBLIC_URL=public_url, FOOF_SESSION_COOKIE_SECURE=setting)
    app = request.getfixturevalue("app")  # built from the changed configuration
    assert ("secure" in session_cookie(log_in_reply(app))) is secure


def test_a_bad_secure_setting_fails_at_start(config):
    from foof import create_app

    config["FOOF_SESSION_COOKIE_SECURE"] = "maybe"
    with pytest.raises(ValueError, match="FOOF_SESSION_COOKIE_SECURE"):
        create_app(config)


def _forms(seller_pid):
    """(method, path, body kwargs) a cross-site HTML form could send: the issue's three
    attacks (profile, listing, order) and more."""
    return [
        ("POST", "/users/detail", {"data": {"alias": "被改了", "description": "hacked"}}),
        ("POST", "/products", {"data": {"name": "钓鱼", "price": "1", "category": "1"}}),
        ("POST", f"/orders/{seller_pid}?trans=0", {"data": {}, "content_type": "application/x-www-form-urlencoded"}),
        ("POST", f"/orders/{seller_pid}?trans=0", {"data": {"x": "1"}, "content_type": "multipart/form-data"}),
        ("POST", "/users/detail", {"data": '{"alias":"x"}', "content_type": "text/plain"}),
        ("PATCH", "/users/password", {"data": {"oldPassword": "123456", "newPassword": "654321"}}),
        ("DELETE", "/users/sessions", {"data": {"a": "1"}}),
        ("POST", "/alipay/info", {"data": {"out_trade_no": "1"}}),
    ]


def test_cookie_requests_with_form_bodies_are_refused(app, people):
    seller, buyer = people["seller"], people["buyer"]
    pid = seller.add_product()
    for method, path, kwargs in _forms(pid):
        before = table_snapshot(app)
        reply = buyer.client.open(path, method=method, **kwargs)
        assert refusal(reply) == FORM, (method, path)
        assert table_snapshot(app) == before, (method, path)
    assert ok(buyer("GET", "/users/detail"))["alias"] == ""  # still logged in, nothing changed
    assert item_state(app, int(pid)) == (1, 0)


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example.com"},
        {"Origin": "null"},  # sandboxed frames and some redirects
        {"Origin": "http://localhost:8080"},  # another port is another origin
        {"Origin": "https://localhost"},  # another scheme too
        {"Referer": "https://evil.example.com/page.html"},
        {"Origin": "https://evil.example.com", "Referer": "http://localhost/"},  # Origin decides
    ],
)
def test_cookie_requests_from_a_foreign_origin_are_refused(app, people, headers):
    seller, buyer = people["seller"], people["buyer"]
    pid = seller.add_product()
    attempts = [
        ("POST", "/users/detail", {"alias": "被改了"}),
        ("POST", "/products", {"name": "钓鱼", "price": "1"}),
        ("POST", f"/orders/{pid}?trans=0", None),
        ("DELETE", f"/products/{pid}", None),
    ]
    for method, path, body in attempts:
        who = seller if method == "DELETE" else buyer
        before = table_snapshot(app)
        assert refusal(who(method, path, body, headers=headers)) == FOREIGN, (method, path)
        assert table_snapshot(app) == before
    before = table_snapshot(app)
    reply = buyer.client.patch(
        "/users/detail/avatar",
        data={"file": (io.BytesIO(png()), "a.png", "image/png")},
        content_type="multipart/form-data",
        headers=headers,
    )
    assert refusal(reply) == FOREIGN
    assert table_snapshot(app) == before
    assert not any(p.name.endswith(".jpg") for p in _upload_files(app))


def _upload_files(app):
    import pathlib

    root = pathlib.Path(app.config["FOOF_UPLOAD_ROOT"])
    return list(root.rglob("*")) if root.exists() else []


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Origin": "http://localhost"},
        {"Referer": "http://localhost/app/#/me"},
        {"Origin": PUBLIC_URL},
        {"Referer": PUBLIC_URL + "/index.html"},
        {"Origin": "HTTPS://Market.Example.EDU.cn:443"},
    ],
)
def test_same_origin_and_originless_json_requests_pass(app, people, headers):
    app.config["FOOF_PUBLIC_URL"] = PUBLIC_URL  # the site as the browser sees it (behind nginx)
    seller, buyer = people["seller"], people["buyer"]
    pid = seller.add_product()
    ok(buyer("POST", "/users/detail", {"alias": "小草莓"}, headers=headers))
    ok(buyer("POST", f"/orders/{pid}?trans=0", headers=headers))
    ok(seller("PATCH", f"/products/{pid}", {"price": "30"}, headers=headers))
    url = ok(
        seller.client.patch(
            f"/products/img/{pid}",
            data={"file": (io.BytesIO(png()), "a.png", "image/png")},
            content_type="multipart/form-data",
            headers=headers,
        )
    )
    assert url.startswith("/upload/p")
    assert ok(buyer("GET", "/users/detail"))["alias"] == "小草莓"


@pytest.mark.parametrize(
    ("forwarded", "origin", "accepted"),
    [
        ({"X-Forwarded-Proto": "https"}, "https://market.example.edu.cn", True),
        ({}, "https://market.example.edu.cn", False),  # the proxy did not say TLS: http://market… is ours
        ({}, "http://market.example.edu.cn", True),
        ({"X-Forwarded-Proto": "https"}, "https://evil.example.com", False),
    ],
)
def test_same_origin_is_the_host_the_proxy_forwarded(config, request, forwarded, origin, accepted):
    config["FOOF_TRUST_PROXY"] = 1  # FOOF_PUBLIC_URL stays http://localhost:4000: the request's host decides
    app = request.getfixturevalue("app")
    buyer = Person(app, "buyer")
    site = "market.example.edu.cn"  # the Host nginx passes on (proxy_set_header Host $host)
    buyer.client.set_cookie("session", buyer.client.get_cookie("session").value, domain=site)
    reply = buyer(
        "POST", "/users/detail", {"alias": "代理"}, base_url=f"http://{site}", headers={"Origin": origin, **forwarded}
    )
    if accepted:
        ok(reply)
    else:
        assert refusal(reply) == FOREIGN


def test_bearer_requests_are_not_cookie_authenticated(app, client, make_user, token_for):
    """A Bearer token is no ambient credential: forms and any Origin are accepted with it, even
    when a (stale or foreign) session cookie rides along."""
    uuid = make_user("13800000001")
    client.set_cookie("session", "whatever")
    headers = {**bearer(token_for(uuid)), "Origin": "https://evil.example.com"}
    assert ok(client.post("/products", data={"name": "充电宝", "price": "9"}, headers=headers)) == "1"
    ok(client.post("/users/detail", data={"alias": "表单"}, headers=headers))


def test_requests_without_the_cookie_are_not_checked(app, make_user, make_item, token_for):
    """No cookie, nothing to forge: forms still register and log in (the form face of the
    secondhand API stays for non-browser clients), and Alipay's notices are never checked."""
    client = app.test_client()
    ok(
        client.post(
            "/users",
            data={"username": "formuser", "password": "123456", "resetQuestion": "q", "resetAnswer": "a"},
            headers={"Origin": "https://evil.example.com"},
        )
    )
    assert ok(client.post("/users/sessions", data={"username": "formuser", "password": "123456"}))["id"]
    # now the client holds the cookie: the same form is refused
    assert refusal(client.post("/users/sessions", data={"username": "formuser", "password": "123456"})) == FORM
    notice = client.post("/alipay/response", data={"sign": "x"}, headers={"Origin": "https://evil.example.com"})
    assert (notice.status_code, notice.data) == (200, b"failure")  # answered by the notice view


def test_safe_methods_are_not_checked(app, people):
    seller = people["seller"]
    pid = seller.add_product()
    assert ok(seller("GET", f"/products/detail/{pid}", headers={"Origin": "https://evil.example.com"}))["id"]


# == 6. pay ids ===================================================================================
APP_ID = "2021000122612470"
TRADE_NO = "2023020922001400000000000001"


@pytest.fixture(scope="module")
def alipay_keys():
    return {
        "ours": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "theirs": rsa.generate_private_key(public_exponent=65537, key_size=2048),
    }


def _pem(key, private):
    if private:
        return key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture
def alipay(app, alipay_keys):
    app.config.update(
        FOOF_ALIPAY_APP_ID=APP_ID,
        FOOF_ALIPAY_PRIVATE_KEY=_pem(alipay_keys["ours"], True),
        FOOF_ALIPAY_PUBLIC_KEY=_pem(alipay_keys["theirs"], False),
    )

    def notice(order_id, amount, trade_no=TRADE_NO):
        fields = {
            "app_id": APP_ID,
            "out_trade_no": order_id,
            "total_amount": amount,
            "trade_no": trade_no,
            "trade_status": "TRADE_SUCCESS",
            "notify_time": "2023-02-09 00:35:02",
            "charset": "utf-8",
        }
        content = "&".join(f"{k}={v}" for k, v in sorted(fields.items()))
        signature = alipay_keys["theirs"].sign(content.encode(), padding.PKCS1v15(), hashes.SHA256())
        fields.update(sign_type="RSA2", sign=base64.b64encode(signature).decode())
        reply = app.test_client().post(
            "/alipay/response", data=urlencode(fields), content_type="application/x-www-form-urlencoded"
        )
        return reply.data

    return notice


@pytest.fixture
def open_order(app, people):
    seller, buyer = people["seller"], people["buyer"]
    pid = seller.add_product("台灯", "25")
    ok(buyer.buy(pid))
    return ok(buyer("GET", "/orders/buy"))[0]["id"]


def test_the_buyer_cannot_enter_a_pay_id(app, people, open_order):
    buyer = people["buyer"]
    before = table_snapshot(app)
    assert refusal(buyer("POST", f"/orders/{open_order}?type=1&number=20230117")) == (403, 4004, "无权操作")
    assert table_snapshot(app) == before
    ok(buyer("POST", f"/orders/{open_order}?type=2&number=SF123"))  # an express number still is theirs to set


def test_the_seller_enters_a_pay_id_once_and_it_is_marked_unverified(app, people, open_order):
    seller, buyer = people["seller"], people["buyer"]
    ok(seller("POST", f"/orders/{open_order}?type=1&number=20230117"))
    assert ok(buyer("GET", "/orders/buy"))[0]["payId"] == "20230117"  # the wire shows the number
    assert order_rows(app)[0][3] == "~20230117"  # stored as hand-entered
    before = table_snapshot(app)
    assert refusal(seller("POST", f"/orders/{open_order}?type=1&number=99999"))[1] == 4007
    assert table_snapshot(app) == before
    assert refusal(seller("POST", f"/orders/{open_order}?type=1&number={'9' * 64}"))[1] == 4005  # 63 at most


def test_a_verified_pay_id_is_final(app, people, open_order, alipay):
    seller, buyer = people["seller"], people["buyer"]
    assert alipay(open_order, "25.00") == b"success"
    before = table_snapshot(app)
    for who in (seller, buyer):
        assert refusal(who("POST", f"/orders/{open_order}?type=1&number=123"))[1] in (4004, 4007)
    assert table_snapshot(app) == before
    assert order_rows(app)[0][3] == TRADE_NO
    assert alipay(open_order, "25.00", trade_no="2023020922001400000000000002") == b"failure"
    assert ok(buyer("GET", "/orders/buy"))[0]["payId"] == TRADE_NO


def test_a_verified_notice_replaces_a_hand_entered_pay_id(app, people, open_order, alipay):
    seller = people["seller"]
    ok(seller("POST", f"/orders/{open_order}?type=1&number=CASH1"))
    assert alipay(open_order, "25.00") == b"success"
    assert order_rows(app)[0][3] == TRADE_NO
    assert alipay(open_order, "25.00") == b"success"  # a replay stays a replay
    assert ok(seller("GET", "/orders/sell"))[0]["payId"] == TRADE_NO


# == 7. phones and deleted products ==============================================================
def test_a_sellers_phone_is_shown_only_to_logged_in_viewers_when_published(
    app, people, make_user, make_item, token_for
):
    seller, viewer = people["seller"], people["stranger"]
    set_phone(app, seller.uuid, "12344556697")
    pid = seller.add_product()
    assert ok(app.test_client().get(f"/products/detail/{pid}"))["sellerPhone"] is None
    assert ok(viewer("GET", f"/products/detail/{pid}"))["sellerPhone"] == "12344556697"
    legacy_viewer = make_user("13800000007")
    assert (
        ok(app.test_client().get(f"/products/detail/{pid}", headers=bearer(token_for(legacy_viewer))))["sellerPhone"]
        == "12344556697"
    )
    # a bad cookie or token is no login
    stale = app.test_client()
    stale.set_cookie("session", "forged")
    assert ok(stale.get(f"/products/detail/{pid}"))["sellerPhone"] is None
    assert ok(app.test_client().get(f"/products/detail/{pid}", headers=bearer("x.y.z")))["sellerPhone"] is None
    # a REST account without a number, and every legacy seller (whose number is a login name)
    unpublished = int(people["buyer"].add_product("书"))
    legacy_seller = make_user("13800000008")
    legacy_item = make_item(legacy_seller)
    for itemid in (unpublished, legacy_item):
        assert ok(viewer("GET", f"/products/detail/{itemid}"))["sellerPhone"] is None
    # an anonymous visitor gets no cookie from a detail
    reply = app.test_client().get(f"/products/detail/{pid}")
    assert not reply.headers.getlist("Set-Cookie")


def test_walking_the_ids_collects_no_phone(app, make_user, make_item, client):
    for n in range(5):
        make_item(make_user(f"1380000001{n}"))
    phones = [ok(client.get(f"/products/detail/{itemid}"))["sellerPhone"] for itemid in range(1, 6)]
    assert phones == [None] * 5


def test_deleted_products_are_gone_from_the_rest_face(app, people, make_item, token_for, make_user):
    seller, buyer = people["seller"], people["buyer"]
    legacy_seller = make_user("13800000009")
    token = token_for(legacy_seller)
    deleted_legacy = make_item(legacy_seller, title="旧手机", note="联系我 13800000009")
    reply = app.test_client().post("/item/delete", data={"token": token, "itemid": deleted_legacy})
    assert reply.get_json() == {"status": "success"}
    taken_down = int(seller.add_product("书桌"))
    ok(seller("DELETE", f"/products/{taken_down}"))
    old_deleted = make_item(legacy_seller, title="老数据删除", sold=3, to=0)  # the old server's deletion
    old_deleted_null = make_item(legacy_seller, title="老数据删除2", sold=3, to=None)
    reserved = make_item(legacy_seller, title="已预订", sold=3, to=buyer.uuid)
    for itemid in (deleted_legacy, taken_down, old_deleted, old_deleted_null):
        for viewer in (app.test_client(), buyer.client):
            assert refusal(viewer.get(f"/products/detail/{itemid}")) == (200, 4006, "商品不存在！"), itemid
    assert ok(buyer("GET", f"/products/detail/{reserved}"))["state"] == "1"
    listed = [int(p["id"]) for p in ok(app.test_client().get("/products"))]
    listed += [int(p["id"]) for p in ok(app.test_client().get("/products/1"))]
    assert not {deleted_legacy, taken_down, old_deleted, old_deleted_null, reserved} & set(listed)


def test_an_orders_parties_keep_the_product_name_after_deletion(app, people):
    seller, buyer = people["seller"], people["buyer"]
    pid = seller.add_product("台灯")
    ok(buyer.buy(pid))
    ok(seller("DELETE", f"/products/{pid}"))
    assert [o["pname"] for o in ok(buyer("GET", "/orders/buy"))] == ["台灯"]
    assert refusal(buyer("GET", f"/products/detail/{pid}"))[1] == 4006


# == 8. open orders and orders per hour ==========================================================
def test_open_orders_are_capped_per_buyer(app, people):
    seller, buyer = people["seller"], people["buyer"]
    pids = [seller.add_product(f"商品{n}", "3") for n in range(5)]
    for pid in pids[:3]:
        ok(buyer.buy(pid))
    before = table_snapshot(app)
    assert refusal(buyer.buy(pids[3])) == (200, 4008, TOO_MANY_OPEN)
    assert table_snapshot(app) == before
    assert item_state(app, int(pids[3])) == (1, 0)
    orders = ok(buyer("GET", "/orders/buy"))
    ok(buyer("POST", f"/orders/state/{orders[0]['id']}?state=1"))  # cancelling frees a place
    ok(buyer.buy(pids[3]))
    ok(seller("POST", f"/orders/state/{orders[1]['id']}?state=2"))  # so does completing
    ok(buyer.buy(pids[4]))
    assert [o["pid"] for o in orders[:2]] == [f"{int(pids[2]):020d}", f"{int(pids[1]):020d}"]
    assert refusal(buyer.buy(pids[2]))[1] == 4008  # back on sale, but the buyer is at the cap
    # other buyers are not held up by this one
    ok(people["stranger"].buy(pids[2]))


def test_orders_per_hour_are_limited(app, people, clock):
    app.config.update(FOOF_MAX_OPEN_ORDERS=100, FOOF_ORDERS_PER_HOUR=4)
    seller, buyer = people["seller"], people["buyer"]
    pid = seller.add_product()
    for _ in range(4):  # place and cancel: cancelled orders count, or the churn would be free
        ok(buyer.buy(pid))
        ok(buyer("POST", f"/orders/state/{ok(buyer('GET', '/orders/buy'))[0]['id']}?state=1"))
    before = table_snapshot(app)
    assert refusal(buyer.buy(pid)) == (200, 4008, TOO_FREQUENT)
    assert table_snapshot(app) == before
    clock.advance(3601)
    ok(buyer.buy(pid))


def test_refused_orders_do_not_use_up_the_hour(app, people):
    app.config.update(FOOF_ORDERS_PER_HOUR=2)
    seller, buyer = people["seller"], people["buyer"]
    pid = seller.add_product()
    for _ in range(3):
        assert refusal(buyer.buy(9999))[1] == 4006
        assert refusal(seller.buy(pid))[1] == 4005  # own product
    ok(buyer.buy(pid))
    with app.app_context():
        assert (
            db.session.execute(
                select(func.count()).select_from(RateEvent).where(RateEvent.kind == "orders:hour")
            ).scalar()
            == 1
        )


def legacy_order(app, token, itemid, to):
    return app.test_client().post("/item/order", data={"token": token, "itemid": itemid, "to": to}).get_json()


def test_legacy_item_order_obeys_the_buyers_cap(app, people, make_user, make_item, token_for):
    seller, buyer = people["seller"], people["buyer"]
    for n in range(3):
        ok(buyer.buy(seller.add_product(f"商品{n}")))
    owner = make_user("13800000005")
    itemid = make_item(owner)
    before = table_snapshot(app)
    assert legacy_order(app, token_for(owner), itemid, buyer.uuid) == {"status": "failure", "info": "not for trade"}
    assert table_snapshot(app) == before
    # a want post opens no order, so it is not capped; another buyer is not capped either
    want = make_item(owner, sold=-1)
    assert legacy_order(app, token_for(owner), want, buyer.uuid) == {"status": "success"}
    assert legacy_order(app, token_for(owner), itemid, people["stranger"].uuid) == {"status": "success"}


def test_the_legacy_cap_counts_orders_of_both_faces(app, people, make_user, make_item, token_for):
    buyer = people["buyer"]
    owner = make_user("13800000005")
    token = token_for(owner)
    items = [make_item(owner) for _ in range(4)]
    for itemid in items[:3]:
        assert legacy_order(app, token, itemid, buyer.uuid) == {"status": "success"}
    assert refusal(buyer.buy(people["seller"].add_product()))[1] == 4008
    assert legacy_order(app, token, items[3], buyer.uuid)["info"] == "not for trade"


# -- at once, through the real service ------------------------------------------------------------
def _post(url, headers=None, data=b""):
    request = urllib.request.Request(url, data=data, method="POST", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as err:
        with err:
            return err.code, json.loads(err.read())


def _at_once(calls):
    """Run the callables in threads released together; their results in order."""
    results = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(index):
        barrier.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.fixture
def serve(app, config, monkeypatch):
    """``serve(**FOOF settings)`` → the base URL of ``python wsgi.py`` on the test database."""
    started = []

    def start(**settings):
        for key, value in settings.items():
            monkeypatch.setenv(key, str(value))
        proc, url = start_server(config)
        started.append(proc)
        return url

    yield start
    for proc in started:
        stop_server(proc)


def _market(app, make_user, make_item, count):
    sellers = [make_user(f"1390000{n:04d}") for n in range(count)]
    return [make_item(seller, title=f"商品{n}") for n, seller in enumerate(sellers)]


@pytest.mark.parametrize(
    ("settings", "winners"),
    [
        ({"FOOF_MAX_OPEN_ORDERS": 3, "FOOF_ORDERS_PER_HOUR": 100}, 3),
        ({"FOOF_MAX_OPEN_ORDERS": 100, "FOOF_ORDERS_PER_HOUR": 4}, 4),
    ],
)
def test_orders_sent_at_once_by_one_buyer_stop_at_the_cap(
    app, serve, make_user, make_item, token_for, settings, winners
):
    items = _market(app, make_user, make_item, 10)
    buyer = make_user("13800000001")
    headers = bearer(token_for(buyer))
    url = serve(**settings)
    replies = _at_once([lambda itemid=itemid: _post(f"{url}/orders/{itemid}?trans=0", headers) for itemid in items])
    states = sorted(body["state"] for status, body in replies)
    assert states == [200] * winners + [4008] * (10 - winners), replies
    rows = order_rows(app)
    assert len(rows) == winners and all(state == "0" and who == buyer for _, who, state, _ in rows)
    reserved = [itemid for itemid in items if item_state(app, itemid) == (3, buyer)]
    assert sorted(reserved) == sorted(row[0] for row in rows)


def test_legacy_reservations_sent_at_once_for_one_buyer_stop_at_the_cap(app, serve, make_user, make_item, token_for):
    owners = [make_user(f"1390000{n:04d}") for n in range(8)]
    items = [make_item(owner) for owner in owners]
    buyer = make_user("13800000001")
    tokens = [token_for(owner) for owner in owners]
    url = serve(FOOF_MAX_OPEN_ORDERS=3)
    calls = [
        lambda token=token, itemid=itemid: _post(
            f"{url}/item/order", data=urlencode({"token": token, "itemid": itemid, "to": buyer}).encode()
        )
        for token, itemid in zip(tokens, items)
    ]
    replies = _at_once(calls)
    assert sorted(json.dumps(body) for _, body in replies) == sorted(
        [json.dumps({"status": "success"})] * 3 + [json.dumps({"status": "failure", "info": "not for trade"})] * 5
    )
    assert len(order_rows(app)) == 3
    assert sum(item_state(app, itemid)[0] == 3 for itemid in items) == 3
