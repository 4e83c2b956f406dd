"""The hot path (foof/legacy/hot.py) answers exactly as the Flask routes, and the per-thread
reads (foof/domain/reads.py) never serve stale data."""

import threading

import pytest
from sqlalchemy import select, update
from werkzeug.test import Client

from foof.domain import reads
from foof.extensions import db
from foof.legacy.hot import HotPath
from foof.models import Chat, Item, User
from tests.conftest import post_json


def _hot(app):
    hot = app.wsgi_app
    while not isinstance(hot, HotPath):  # ProxyFix may sit outside it
        hot = hot.app
    return hot


def _flask_only(app):
    """A client for the same app with the hot path taken out (the reference answers)."""
    return Client(_hot(app).next)


def _same(first, second):
    assert first.status_code == second.status_code
    assert first.headers.get("Content-Type") == second.headers.get("Content-Type")
    assert first.headers.get("Content-Length") == second.headers.get("Content-Length")
    assert first.get_data() == second.get_data()


@pytest.fixture
def people(make_user, make_item):
    seller = make_user("13800000001", "pw", username="卖家", info='有"引号"和\\反斜杠')
    buyer = make_user("13800000002", "pw")
    live = make_item(seller, title="九成新 iPad / 带笔", price=1e21, note="𝄞 四字节字符")
    cheap = make_item(seller, title="书", price=0.1 + 0.2)
    deleted = make_item(seller, sold=4)
    want = make_item(buyer, sold=-1, price=12.5)
    return {"seller": seller, "buyer": buyer, "live": live, "cheap": cheap, "deleted": deleted, "want": want}


def _read_paths(people):
    return [
        f"/item/{people['live']}",
        f"/item/{people['cheap']}",
        f"/item/{people['deleted']}",
        f"/item/{people['want']}",
        "/item/999999",
        "/item/0",
        "/item/2147483648",
        "/item/-1",
        f"/item/0{people['live']}",
        f"/ITEM/{people['live']}",
        f"/Item/{people['live']}/",
        f"/item/{people['live']}?x=1",
        "/item/abc",
        "/item/%31",
        f"/user/{people['seller']}",
        f"/user/{people['buyer']}",
        "/user/424242",
        "/user/0",
        f"/USER/{people['seller']}/",
        f"/user/{people['seller']}?token=x",
        "/user/１",
    ]


def test_reads_answer_byte_for_byte_like_the_flask_routes(app, client, people):
    reference = _flask_only(app)
    for path in _read_paths(people):
        _same(client.get(path), reference.get(path))
        _same(client.head(path), reference.head(path))


def test_plain_reads_are_served_without_flask(app, client, people):
    hot = _hot(app)
    reference = _flask_only(app)
    expected = {p: reference.get(p).get_data() for p in (f"/item/{people['live']}", f"/user/{people['seller']}")}

    def refuse(environ, start_response):
        raise AssertionError(f"{environ['PATH_INFO']} went to Flask")

    hot.next = refuse
    for path, body in expected.items():
        reply = client.get(path)
        assert reply.status_code == 200
        assert reply.get_data() == body
        assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
        assert b'"status":"success"' in body


def _send(app, people, sender, to, data):
    with app.app_context():
        from foof.domain import messaging

        return messaging.push(sender, to, 1, data)


def test_fetchnew_on_the_hot_path_returns_each_message_once(app, client, people, token_for):
    token = token_for(people["buyer"])
    first = _send(app, people, people["seller"], people["buyer"], "在吗")
    second = _send(app, people, people["seller"], people["buyer"], "还在卖")
    reply = client.post("/user/chat/fetchnew", data={"token": token})
    data = reply.get_json()["data"]
    assert [m["id"] for m in data] == [first, second]
    assert all(m["fetched"] is False for m in data)  # as they were before this fetch
    assert client.post("/user/chat/fetchnew", data={"token": token}).get_data() == b'{"status":"success","data":[]}'
    third = _send(app, people, people["seller"], people["buyer"], "JSON 也行")
    reply = post_json(client, "/user/chat/fetchnew", {"token": token})
    assert [m["id"] for m in reply.get_json()["data"]] == [third]


def test_fetchnew_empty_poll_is_served_without_flask(app, client, people, token_for):
    token = token_for(people["buyer"])
    hot = _hot(app)

    def refuse(environ, start_response):
        raise AssertionError("went to Flask")

    hot.next = refuse
    assert client.post("/user/chat/fetchnew", data={"token": token}).get_data() == b'{"status":"success","data":[]}'
    assert post_json(client, "/USER/chat/FetchNew/", {"token": token}).get_data() == b'{"status":"success","data":[]}'


def test_fetchnew_cases_left_to_flask_answer_as_before(app, client, people, token_for):
    token = token_for(people["buyer"])
    reference = _flask_only(app)
    cases = [
        {"data": {"token": "not-a-token"}},
        {"data": {"token": ""}},
        {"data": {}},
        {"data": {"token": token_for(999999)}},  # a valid signature for no account
        {"data": "token=" + token + "&token=other", "content_type": "application/x-www-form-urlencoded"},
        {"data": '{"token": 5}', "content_type": "application/json"},
        {"data": '{"token": ', "content_type": "application/json"},
        {"data": "[1]", "content_type": "application/json"},
        {"data": {"token": token, "pad": "x" * 5000}},
        {"data": {"token": token, "名": "值"}},
    ]
    for case in cases:
        _same(client.post("/user/chat/fetchnew", **case), reference.post("/user/chat/fetchnew", **case))
    bearer = {"Authorization": f"Bearer {token}"}
    _same(client.post("/user/chat/fetchnew", headers=bearer), reference.post("/user/chat/fetchnew", headers=bearer))
    assert client.post("/user/chat/fetchnew", data={"token": "bad"}).status_code == 403


def test_access_log_names_the_route_not_the_path(app, client, people, caplog):
    with caplog.at_level("INFO", logger="foof.access"):
        client.get(f"/item/{people['live']}")
    lines = [r.getMessage() for r in caplog.records if r.name == "foof.access"]
    assert len(lines) == 1
    assert " GET /item/<itemid> 200 " in lines[0]
    assert f"/item/{people['live']}" not in lines[0]


def test_per_thread_reads_see_every_commit(app, people):
    """No snapshot survives between reads (MySQL's REPEATABLE READ would otherwise pin one)."""
    table = Item.__table__
    by_id = select(table).where(table.c.itemid == people["live"])
    with app.app_context():
        assert reads.first(by_id, {}).title == "九成新 iPad / 带笔"
        db.session.execute(update(Item).where(Item.itemid == people["live"]).values(title="改了"))
        db.session.commit()
        assert reads.first(by_id, {}).title == "改了"
        db.session.execute(update(Item).where(Item.itemid == people["live"]).values(title="又改了"))
        db.session.commit()
        assert reads.first(by_id, {}).title == "又改了"
        assert reads.first(select(table).where(table.c.itemid == 999999), {}) is None


def test_per_thread_reads_convert_types_like_sqlalchemy(app, people):
    message = _send(app, people, people["seller"], people["buyer"], "时间")
    table = Chat.__table__
    with app.app_context():
        record = reads.first(select(table).where(table.c.id == message), {})
        orm = db.session.get(Chat, message)
        assert record.createdAt == orm.createdAt
        assert type(record.createdAt) is type(orm.createdAt)
        assert bool(record.fetched) is False
        user = reads.first(select(User.__table__).where(User.__table__.c.uuid == people["seller"]), {})
        assert user.username == "卖家" and user._mapping["uuid"] == people["seller"]
        with pytest.raises(AttributeError):
            user.no_such_column


def test_a_broken_thread_connection_is_replaced(app, people):
    table = Item.__table__
    by_id = select(table).where(table.c.itemid == people["live"])
    with app.app_context():
        assert reads.first(by_id, {}) is not None
        reader = reads._READERS[db.engine]
        reader.local.held[0].close()  # the server went away under it
        assert reads.first(by_id, {}).itemid == people["live"]


def test_each_thread_has_its_own_connection_and_dispose_closes_them(app, people):
    table = Item.__table__
    by_id = select(table).where(table.c.itemid == people["live"])
    seen, errors = [], []

    def read():
        try:
            with app.app_context():
                for _ in range(20):
                    assert reads.first(by_id, {}).itemid == people["live"]
                seen.append(id(reads._READERS[db.engine].local.held[0]))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(set(seen)) == 4
    with app.app_context():
        reader = reads._READERS[db.engine]
        assert len(reader.opened) >= 4
        db.engine.dispose()
        assert reader.opened == []


def test_flask_routes_write_the_same_access_line(config, caplog):
    import logging

    from foof import create_app

    config["FOOF_LOG_LEVEL"] = "INFO"  # the hooks are only installed when the line is shown
    app = create_app(config)
    try:
        with caplog.at_level("INFO", logger="foof.access"):
            reply = app.test_client().get("/item/abc")  # not a plain id: Flask's route answers
        assert reply.get_data() == b'{"status":"none"}'
        lines = [r.getMessage() for r in caplog.records if r.name == "foof.access"]
        assert len(lines) == 1
        assert " GET /item/<itemid> 200 " in lines[0] and "abc" not in lines[0]
    finally:
        logging.getLogger("foof").setLevel(logging.WARNING)
        app.extensions["foof.search"].close()
        with app.app_context():
            db.engine.dispose()


def _refuse_flask(app):
    def refuse(environ, start_response):
        raise AssertionError(f"{environ['PATH_INFO']} went to Flask")

    _hot(app).next = refuse


def _favourite(app, uuid, itemid):
    from foof.models import Favourite

    with app.app_context():
        db.session.add(Favourite(uuid=uuid, itemid=itemid))
        db.session.commit()


def test_fav_query_answers_byte_for_byte_like_the_flask_route(app, client, people, token_for):
    buyer, token = people["buyer"], token_for(people["buyer"])
    for key in ("cheap", "deleted", "live", "want"):
        _favourite(app, buyer, people[key])
    reference = _flask_only(app)
    cases = [
        {"data": {"token": token}},
        {"data": '{"token": "' + token + '"}', "content_type": "application/json"},
        {"data": {"token": "not-a-token"}},
        {"data": {"token": token_for(999999)}},
        {"data": {}},
        {"data": '{"token": 5}', "content_type": "application/json"},
    ]
    for case in cases:
        _same(client.post("/fav/query", **case), reference.post("/fav/query", **case))
    bearer = {"Authorization": f"Bearer {token}"}
    _same(client.post("/fav/query", headers=bearer), reference.post("/fav/query", headers=bearer))
    listed = client.post("/fav/query", data={"token": token}).get_json()["res"]
    # Deleted items are left out; the order is the favourites' own.
    assert [entry["itemid"] for entry in listed] == [people["cheap"], people["live"], people["want"]]
    assert client.post("/fav/query", data={"token": "bad"}).status_code == 403


def test_fav_query_is_served_without_flask_and_sees_every_change(app, client, people, token_for):
    token = token_for(people["seller"])
    _refuse_flask(app)
    assert client.post("/fav/query", data={"token": token}).get_data() == b'{"status":"success","res":[]}'
    _favourite(app, people["seller"], people["want"])
    listed = post_json(client, "/FAV/query/", {"token": token}).get_json()["res"]
    assert [entry["itemid"] for entry in listed] == [people["want"]]
    with app.app_context():
        db.session.execute(update(Item).where(Item.itemid == people["want"]).values(sold=-4))
        db.session.commit()
    assert client.post("/fav/query", data={"token": token}).get_data() == b'{"status":"success","res":[]}'


def _product_paths():
    return ["/products", "/products/", "/Products", "/products?page=1", "/products?size=2&page=2", "/products?size=0"]


def test_products_list_answers_byte_for_byte_like_the_flask_route(app, client, people, make_item):
    for number in range(25):
        make_item(people["seller"], title=f"第{number}件", price=number + 0.5)
    reference = _flask_only(app)
    for path in _product_paths() + ["/products/1", "/products/abc"]:
        _same(client.get(path), reference.get(path))
    page = client.get("/products").get_json()["data"]
    assert len(page) == 20 and page[0]["name"] == "第24件" and page[0]["price"] == 24.5
    assert all(entry["state"] is None for entry in page)  # the list shape of the seed
    # A request with credentials always goes to Flask (the REST face may refresh a cookie).
    cookie = {"Cookie": "session=x"}
    _same(client.get("/products", headers=cookie), reference.get("/products", headers=cookie))


def test_products_first_page_is_served_without_flask(app, client, people):
    from foof.rest import products as rest_products

    assert rest_products.HOT_READS == __import__("foof.legacy.hot", fromlist=["HOT_READS"]).HOT_READS
    _refuse_flask(app)
    body = client.get("/products").get_json()
    assert body["state"] == 200
    assert [entry["name"] for entry in body["data"]] == ["书", "九成新 iPad / 带笔"]  # on sale only, newest first
    with pytest.raises(AssertionError, match="went to Flask"):
        client.get("/products?page=2")
