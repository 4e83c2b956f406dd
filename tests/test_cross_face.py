"""One domain under both faces (docs/architecture.md §1): what one face writes, the other reads.

A product is an item with ``sold > 0`` (``name``↔``title``, ``description``↔``note``,
``category``↔``type``); an order is a row of ``orders`` whose latest state ``items.sold`` and
``items.to`` project for the legacy face; a secondhand account is a ``users`` row that can log
in on the legacy face once it has a real phone number (password = SHA-1 hex of the secondhand
password, as the legacy clients send it), and never with its placeholder.
"""

import hashlib
import http.cookiejar
import io
import json
import os
import threading
import urllib.error
import urllib.request

import pytest
from PIL import Image
from sqlalchemy import func, select

from foof.extensions import db
from foof.models import Item, Order, User

JSON_TYPE = "application/json; charset=utf-8"


def sha1(text):
    return hashlib.sha1(text.encode()).hexdigest()


def pad(n, width=20):
    return f"{int(n):0{width}d}"


# --- the two faces -------------------------------------------------------------------------


def rest(client, method, path, body=None, token=None):
    """A secondhand call; returns ``data`` after checking the reply is a success envelope."""
    answer = rest_envelope(client, method, path, body, token)
    assert (answer["state"], answer["message"]) == (200, None), (method, path, answer)
    return answer["data"]


def rest_envelope(client, method, path, body=None, token=None):
    kwargs = {}
    if body is not None:
        kwargs = {"data": json.dumps(body, ensure_ascii=False), "content_type": "application/json"}
    if token is not None:
        kwargs["headers"] = {"Authorization": f"Bearer {token}"}
    reply = client.open(path, method=method, **kwargs)
    assert reply.headers["Content-Type"] == JSON_TYPE, (path, reply.status_code, reply.get_data()[:200])
    answer = json.loads(reply.get_data())
    assert list(answer) == ["state", "message", "data"], answer
    return answer


def legacy(client, path, token=None, **fields):
    """A legacy POST (urlencoded, as the browser forms send it); returns the parsed reply."""
    if token is not None:
        fields["token"] = token
    reply = client.post(path, data={k: str(v) for k, v in fields.items()})
    assert reply.status_code == 200, (path, reply.status_code, reply.get_data()[:200])
    return json.loads(reply.get_data())


def register(client, name, password="123456", answer="happy"):
    rest(
        client, "POST", "/users", {"username": name, "password": password, "resetQuestion": "q", "resetAnswer": answer}
    )


def rest_person(app, name, password="123456"):
    """A secondhand account, logged in: ``(client with its session cookie, uuid)``."""
    client = app.test_client()
    register(client, name, password)
    uuid = int(rest(client, "POST", "/users/sessions", {"username": name, "password": password})["id"])
    return client, uuid


@pytest.fixture
def config(config, tmp_path):
    config["FOOF_UPLOAD_ROOT"] = str(tmp_path / "upload")
    return config


# --- products and items --------------------------------------------------------------------


def test_a_product_added_through_rest_is_a_legacy_item(app, client):
    seller, seller_uuid = rest_person(app, "lower")
    pid = rest(
        seller,
        "POST",
        "/products",
        {
            "name": "卫生纸",
            "category": "00006",
            "description": "超市买的，剩下4包",
            "location": "1",
            "price": "4.5",
            "tags": "餐巾纸,卫生纸",
        },
    )
    reply = client.get(f"/item/{pid}")
    assert reply.headers["Content-Type"] == JSON_TYPE
    item = json.loads(reply.get_data())
    assert list(item) == [
        "itemid",
        "uuid",
        "title",
        "type",
        "price",
        "imgurl",
        "depreciatione",
        "note",
        "sold",
        "to",
        "status",
    ]
    assert (item["itemid"], item["uuid"], item["title"], item["note"], item["type"], item["price"]) == (
        int(pid),
        seller_uuid,
        "卫生纸",
        "超市买的，剩下4包",
        6,
        4.5,
    )
    assert (item["sold"], item["to"], item["status"]) == (1, 0, "success")
    # the legacy face sees the change of a PATCH too
    rest(seller, "PATCH", f"/products/{pid}", {"name": "抽纸", "description": "还剩3包", "category": "5", "price": 3})
    item = json.loads(client.get(f"/item/{pid}").get_data())
    assert (item["title"], item["note"], item["type"], item["price"]) == ("抽纸", "还剩3包", 5, 3)
    # and its taking down: the item is deleted for the legacy face
    rest(seller, "DELETE", f"/products/{pid}")
    assert json.loads(client.get(f"/item/{pid}").get_data()) == {"status": "none"}


def test_a_legacy_item_appears_in_products(app, client, make_user, token_for):
    uuid = make_user("13800000001", sha1("pw"))
    token = token_for(uuid)
    added = legacy(
        client,
        "/item/add",
        token,
        title="九成新小米充电宝",
        type=1,
        price=39.9,
        depreciatione=9,
        note="东门自提",
        sold=1,
    )
    itemid = added["data"]["itemid"]
    want = legacy(client, "/item/add", token, title="求购自行车", type=3, price=100, depreciatione=0, note="", sold=-1)
    listed = rest(client, "GET", "/products")
    assert [p["id"] for p in listed] == [pad(itemid)]  # the "want to buy" post is no product
    entry = listed[0]
    assert (entry["name"], entry["description"], entry["price"]) == ("九成新小米充电宝", "东门自提", 39.9)
    assert rest(client, "GET", "/products/00001") == listed
    detail = rest(client, "GET", f"/products/detail/{itemid}")
    assert (detail["id"], detail["seller"], detail["category"], detail["state"], detail["sellerPhone"]) == (
        pad(itemid),
        pad(uuid, 10),
        "00001",
        "0",
        None,
    )  # issue #11: a legacy seller never published a phone
    answer = rest_envelope(client, "GET", f"/products/detail/{want['data']['itemid']}")
    assert answer["state"] == 4006


# --- orders --------------------------------------------------------------------------------


def test_a_rest_order_reserves_the_legacy_item(app, client, make_user, token_for):
    seller, _ = rest_person(app, "lower")
    buyer, buyer_uuid = rest_person(app, "xiaocaomei")
    pid = rest(
        seller,
        "POST",
        "/products",
        {"name": "核酸抗原", "category": "00020", "description": "核酸抗原", "location": "4", "price": "6"},
    )
    rest(buyer, "POST", f"/orders/{pad(pid)}?trans=0")
    item = json.loads(client.get(f"/item/{pid}").get_data())
    assert (item["sold"], item["to"]) == (3, buyer_uuid)
    # the buyer's legacy token sees it among its finished/reserved items
    finished = legacy(client, "/user/finished", token_for(buyer_uuid))
    assert [i["itemid"] for i in finished] == [int(pid)]
    # REST completion → legacy sold 2
    order = rest(buyer, "GET", "/orders/buy")[0]
    rest(seller, "POST", f"/orders/state/{order['id']}?state=2")
    item = json.loads(client.get(f"/item/{pid}").get_data())
    assert (item["sold"], item["to"]) == (2, buyer_uuid)


def test_a_rest_cancel_puts_the_legacy_item_back_on_sale(app, client):
    seller, _ = rest_person(app, "lower")
    buyer, _ = rest_person(app, "xiaocaomei")
    pid = rest(seller, "POST", "/products", {"name": "台灯", "category": "1", "price": "25"})
    rest(buyer, "POST", f"/orders/{pid}?trans=1")
    order = rest(seller, "GET", "/orders/sell")[0]
    rest(buyer, "POST", f"/orders/state/{order['id']}?state=1")
    item = json.loads(client.get(f"/item/{pid}").get_data())
    assert (item["sold"], item["to"]) == (1, 0)


def legacy_seller_with_item(client, make_user, token_for, title="二手自行车", price=150):
    seller = make_user("13800000001", sha1("pw"))
    token = token_for(seller)
    itemid = legacy(
        client, "/item/add", token, title=title, type=3, price=price, depreciatione=7, note="骑了一年", sold=1
    )["data"]["itemid"]
    return seller, token, itemid


def test_a_legacy_reset_cancels_the_rest_order(app, client, make_user, token_for):
    _seller, seller_token, itemid = legacy_seller_with_item(client, make_user, token_for)
    buyer, buyer_uuid = rest_person(app, "xiaocaomei")
    rest(buyer, "POST", f"/orders/{itemid}?trans=0")
    # the legacy seller sees the REST order with its legacy token (Bearer on the REST face)
    sold = rest(client, "GET", "/orders/sell", token=seller_token)
    assert [(o["pid"], o["buyer"], o["state"]) for o in sold] == [(pad(itemid), pad(buyer_uuid, 10), "0")]
    assert legacy(client, "/item/reset", seller_token, itemid=itemid) == {"status": "success"}
    sold = rest(client, "GET", "/orders/sell", token=seller_token)
    assert [(o["pid"], o["state"]) for o in sold] == [(pad(itemid), "1")]
    assert [o["state"] for o in rest(buyer, "GET", "/orders/buy")] == ["1"]
    assert [p["id"] for p in rest(client, "GET", "/products")] == [pad(itemid)]
    assert rest(client, "GET", f"/products/detail/{itemid}")["state"] == "0"


def test_legacy_order_then_trade_completes_an_order(app, client, make_user, token_for):
    seller, seller_token, itemid = legacy_seller_with_item(client, make_user, token_for, price=150)
    buyer, buyer_uuid = rest_person(app, "xiaocaomei")
    buyer_token = token_for(buyer_uuid)
    assert legacy(client, "/item/order", seller_token, to=buyer_uuid, itemid=itemid) == {"status": "success"}
    bought = rest(client, "GET", "/orders/buy", token=buyer_token)
    assert [(o["pid"], o["seller"], o["buyer"], o["state"], o["price"]) for o in bought] == [
        (pad(itemid), pad(seller, 10), pad(buyer_uuid, 10), "0", 150.0)
    ]
    assert rest(client, "GET", f"/products/detail/{itemid}")["state"] == "1"
    assert legacy(client, "/item/trade", buyer_token, itemid=itemid) == {"status": "success"}
    bought = rest(client, "GET", "/orders/buy", token=buyer_token)
    assert [(o["pid"], o["state"], o["pname"]) for o in bought] == [(pad(itemid), "2", "二手自行车")]
    # the session-cookie view is the same as the Bearer view
    assert rest(buyer, "GET", "/orders/buy") == bought
    assert rest(client, "GET", f"/products/detail/{itemid}")["state"] == "1"
    # a completed order cannot be changed any more, from either face
    assert rest_envelope(buyer, "POST", f"/orders/state/{bought[0]['id']}?state=1")["state"] == 4007
    assert legacy(client, "/item/reset", seller_token, itemid=itemid)["status"] == "failure"


def test_bearer_token_on_the_rest_face(app, client, make_user, token_for):
    uuid = make_user("13800000001", sha1("pw"))
    detail = rest(client, "GET", "/users/detail", token=token_for(uuid))
    assert (detail["id"], detail["phoneNumber"]) == (pad(uuid, 10), "13800000001")
    answer = rest_envelope(client, "GET", "/users/detail", token="eyJhbGciOiJIUzI1NiJ9.eyJ1dWlkIjoxfQ.forged")
    assert answer["state"] == 4003


# --- accounts ------------------------------------------------------------------------------


def test_a_rest_account_with_a_phone_logs_in_on_the_legacy_face(app, client, outbox):
    rest_client, uuid = rest_person(app, "lower111", "123456")
    # issue #11: the number is proved by the SMS code sent to it
    assert legacy(client, "/user/requirecode", phonenumber="13912345678")["status"] == "success"
    code = [m for m in outbox("sms") if m["phonenumber"] == "13912345678"][-1]["code"]
    rest(rest_client, "POST", "/users/detail", {"phoneNumber": "13912345678", "verifyCode": code})
    answer = legacy(client, "/user/login", phonenumber="13912345678", password=sha1("123456"))
    assert (answer["status"], answer["info"]["uuid"], answer["info"]["phonenumber"]) == ("success", uuid, "13912345678")
    me = legacy(client, "/user/me", answer["token"])
    assert (me["uuid"], me["status"]) == (uuid, "success")
    # not with the bare password: the legacy clients send its SHA-1 hex
    assert legacy(client, "/user/login", phonenumber="13912345678", password="123456") == {
        "status": "failure",
        "info": "password incorrect",
    }
    # a password changed on the secondhand face changes the legacy one too
    rest(rest_client, "PATCH", "/users/password", {"oldPassword": "123456", "newPassword": "abcdefg"})
    assert legacy(client, "/user/login", phonenumber="13912345678", password=sha1("123456")) == {
        "status": "failure",
        "info": "password incorrect",
    }
    assert legacy(client, "/user/login", phonenumber="13912345678", password=sha1("abcdefg"))["status"] == "success"


def test_a_rest_only_account_never_logs_in_on_the_legacy_face(app, client):
    _, uuid = rest_person(app, "lower111", "123456")
    with app.app_context():
        placeholder = db.session.get(User, uuid).phonenumber
    assert placeholder and not placeholder.isdigit()
    for phonenumber in (placeholder, "lower111", placeholder[:1], ""):
        for password in (sha1("123456"), "123456"):
            answer = legacy(client, "/user/login", phonenumber=phonenumber, password=password)
            assert answer["status"] == "failure" and "token" not in answer, (phonenumber, password, answer)


# --- the race ------------------------------------------------------------------------------


def http_json(opener, url, method="POST", body=None, timeout=60):
    """``(HTTP status, parsed JSON)`` of a request through ``opener`` (which keeps cookies)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"} if body is not None else {}
    )
    try:
        with opener.open(request, timeout=timeout) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as err:
        with err:
            return err.code, json.loads(err.read())


def test_twenty_buyers_race_for_one_product(app, live_server):
    setup = app.test_client()
    seller, _ = rest_person(app, "lower")
    pid = rest(seller, "POST", "/products", {"name": "核酸抗原", "category": "00020", "price": "6"})
    buyers = []
    for n in range(20):
        name = f"buyer{n:02d}"
        setup.environ_base["REMOTE_ADDR"] = f"10.0.0.{n + 1}"  # 20 students, 20 phones: per-address limit
        register(setup, name)
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        status, answer = http_json(
            opener, live_server.url + "/users/sessions", body={"username": name, "password": "123456"}
        )
        assert (status, answer["state"]) == (200, 200), answer
        status, detail = http_json(opener, live_server.url + "/users/detail", method="GET")
        assert (status, detail["data"]["id"]) == (200, answer["data"]["id"]), detail  # the cookie works
        buyers.append((int(answer["data"]["id"]), opener))
    start = threading.Barrier(len(buyers))
    replies = [None] * len(buyers)

    def buy(index):
        _, opener = buyers[index]
        start.wait()
        replies[index] = http_json(opener, f"{live_server.url}/orders/{pad(pid)}?trans=0")

    threads = [threading.Thread(target=buy, args=(i,)) for i in range(len(buyers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert all(reply is not None for reply in replies), replies
    wins = [i for i, (status, answer) in enumerate(replies) if answer["state"] == 200]
    assert len(wins) == 1, replies
    assert all(
        (status, answer["state"]) == (200, 4006) for i, (status, answer) in enumerate(replies) if i not in wins
    ), replies
    winner = buyers[wins[0]][0]
    with app.app_context():
        orders = db.session.execute(select(Order).where(Order.itemid == int(pid))).scalars().all()
        assert [(o.buyer, o.state) for o in orders] == [(winner, "0")]
        assert db.session.execute(select(func.count()).select_from(Order)).scalar() == 1
        item = db.session.get(Item, int(pid))
        assert (item.sold, item.to) == (3, winner)


# --- pictures ------------------------------------------------------------------------------


def png_bytes():
    out = io.BytesIO()
    Image.new("RGB", (24, 24), (200, 30, 90)).save(out, "PNG")
    return out.getvalue()


def uploaded(app):
    root = app.config["FOOF_UPLOAD_ROOT"]
    return sorted(os.listdir(root)) if os.path.isdir(root) else []


@pytest.mark.parametrize("face", ["rest", "legacy"])
def test_taking_down_a_product_removes_its_picture(app, client, token_for, face):
    """docs/legacy-wire.md §5-§8: deleting an item removes its images from disk after the commit;
    docs/architecture.md §1: a product's img is the item's first image, whichever face stored it."""
    seller, uuid = rest_person(app, "lower")
    pid = rest(seller, "POST", "/products", {"name": "台灯", "category": "1", "price": "25"})
    reply = seller.patch(
        f"/products/img/{pid}",
        data={"file": (io.BytesIO(png_bytes()), "a.png", "image/png")},
        content_type="multipart/form-data",
    )
    picture = json.loads(reply.get_data())["data"]
    assert uploaded(app) == [picture.rsplit("/", 1)[1]]
    assert json.loads(client.get(f"/item/{pid}").get_data())["imgurl"] == picture.lstrip("/") + "++"
    if face == "rest":
        rest(seller, "DELETE", f"/products/{pid}")
    else:
        assert legacy(client, "/item/delete", token_for(uuid), itemid=pid) == {"status": "success"}
    assert uploaded(app) == []
