"""Favourites, chat messages, trade requests and recommendations."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import http_post, post_json

OK = {"status": "success"}
INVALID = {"status": "failure", "info": "invaild request"}


@pytest.fixture
def two(make_user, token_for):
    a, b = make_user("1", "pw"), make_user("2", "pw")
    return {"a": (a, token_for(a)), "b": (b, token_for(b))}


def favs(client, token):
    return [(f["itemid"], f["uuid"]) for f in client.post("/fav/query", data={"token": token}).json["res"]]


def test_fav_add_dedup_and_skip_unknown(client, two, make_item):
    uuid, token = two["a"]
    items = [make_item(two["b"][0]) for _ in range(3)]
    deleted = make_item(two["b"][0], sold=4)
    assert client.post("/fav/add", data={"token": token, "data": json.dumps(items[:2])}).json == OK
    assert (
        post_json(client, "/fav/add", {"token": token, "data": [items[1], items[2], 999, deleted, items[2]]}).json == OK
    )
    assert favs(client, token) == [(items[0], uuid), (items[1], uuid), (items[2], uuid)]
    body = client.post("/fav/query", data={"token": token}).data.decode()
    assert body.startswith('{"status":"success","res":[{"id":1,"itemid":1,"uuid":1},')


@pytest.mark.parametrize("data", ["x", "{}", '{"a":1}', '["1"]', "[1.5]", "[true]", "[[1]]", "1", "", '"[1]"'])
def test_fav_bad_data(client, two, data):
    assert client.post("/fav/add", data={"token": two["a"][1], "data": data}).data == b'{"status":"failure","info":{}}'
    assert (
        client.post("/fav/delete", data={"token": two["a"][1], "data": data}).data == b'{"status":"failure","info":{}}'
    )


def test_fav_missing_data(client, two):
    assert client.post("/fav/add", data={"token": two["a"][1]}).json == {"status": "failure", "info": {}}


def test_fav_delete(client, two, make_item):
    token = two["a"][1]
    items = [make_item(two["b"][0]) for _ in range(3)]
    client.post("/fav/add", data={"token": token, "data": json.dumps(items)})
    assert client.post("/fav/delete", data={"token": token, "data": f"[{items[0]},{items[2]},77]"}).json == OK
    assert [i for i, _ in favs(client, token)] == [items[1]]
    # someone else's favourites are untouched by my delete
    client.post("/fav/add", data={"token": two["b"][1], "data": f"[{items[1]}]"})
    client.post("/fav/delete", data={"token": token, "data": f"[{items[1]}]"})
    assert [i for i, _ in favs(client, two["b"][1])] == [items[1]]


def test_concurrent_fav_adds_never_duplicate(live_server, two, make_item, client):
    token = two["a"][1]
    itemid = make_item(two["b"][0])
    with ThreadPoolExecutor(10) as pool:
        replies = list(
            pool.map(
                lambda _: http_post(live_server.url + "/fav/add", {"token": token, "data": f"[{itemid}]"}), range(10)
            )
        )
    assert all(body == b'{"status":"success"}' for _, body in replies)
    assert favs(client, token) == [(itemid, two["a"][0])]


def push(client, sender, to, kind, data):
    return client.post("/user/chat/push", data={"token": sender, "to": str(to), "type": str(kind), "data": data}).json


def test_push_rules(client, two):
    a, b = two["a"], two["b"]
    assert push(client, a[1], b[0], 1, "hi, world.") == OK
    assert push(client, a[1], 999, 1, "hi") == {"status": "failure", "info": "no such user"}
    assert push(client, a[1], "x", 1, "hi") == {"status": "failure", "info": "no such user"}
    assert push(client, a[1], b[0], "chat", "hi") == INVALID
    assert push(client, a[1], b[0], 1, "x" * 256) == INVALID
    assert client.post("/user/chat/push", data={"token": a[1], "to": str(b[0]), "type": "1"}).json == INVALID
    assert push(client, a[1], b[0], 1, "😀 emoji and 中文") == OK


def test_fetchnew_shows_before_marking(client, two, clock):
    a, b = two["a"], two["b"]
    push(client, a[1], b[0], 1, "hi, world.")
    clock.advance(30)
    body = client.post("/user/chat/fetchnew", data={"token": b[1]}).data.decode()
    assert body == (
        '{"status":"success","data":[{"id":1,"from":1,"to":2,"type":1,"data":"hi, world.",'
        '"fetched":false,"createdAt":"2019-09-04T14:29:05.000Z","updatedAt":"2019-09-04T14:29:05.000Z"}]}'
    )
    assert client.post("/user/chat/fetchnew", data={"token": b[1]}).data == b'{"status":"success","data":[]}'
    everything = client.post("/user/chat/fetchall", data={"token": b[1]}).json["data"]
    assert everything[0]["fetched"] is True and everything[0]["updatedAt"] == "2019-09-04T14:29:35.000Z"
    # the sender's own outgoing messages are not in the sender's inbox
    assert client.post("/user/chat/fetchall", data={"token": a[1]}).json["data"] == []


def test_fetchall_marks_and_pages(client, two):
    a, b = two["a"], two["b"]
    for n in range(5):
        push(client, a[1], b[0], 1, f"m{n}")
    first = client.post("/user/chat/fetchall", data={"token": b[1], "limit": "2"}).json["data"]
    assert [m["data"] for m in first] == ["m0", "m1"] and not any(m["fetched"] for m in first)
    rest = client.post("/user/chat/fetchall", data={"token": b[1], "since": str(first[-1]["id"])}).json["data"]
    assert [m["data"] for m in rest] == ["m2", "m3", "m4"]
    assert client.post("/user/chat/fetchnew", data={"token": b[1]}).json["data"] == []
    assert client.post("/user/chat/fetchall", data={"token": b[1], "limit": "0"}).json == INVALID
    assert client.post("/user/chat/fetchall", data={"token": b[1], "since": "x"}).json == INVALID


def test_concurrent_fetchnew_delivers_each_message_once(live_server, client, two):
    a, b = two["a"], two["b"]
    for n in range(30):
        push(client, a[1], b[0], 1, f"m{n}")
    with ThreadPoolExecutor(8) as pool:
        replies = list(
            pool.map(lambda _: http_post(live_server.url + "/user/chat/fetchnew", {"token": b[1]}), range(8))
        )
    seen = [m["id"] for _, body in replies for m in json.loads(body)["data"]]
    assert sorted(seen) == list(range(1, 31))


def test_want_delete(client, two):
    a, b = two["a"], two["b"]
    push(client, a[1], b[0], 0, "5")
    assert client.post("/user/want/delete", data={"token": a[1], "id": "1"}).json == {
        "status": "failure",
        "info": "Insufficient permissions",
    }
    assert client.post("/user/want/delete", data={"token": b[1], "id": "9"}).json == {
        "status": "failure",
        "info": "no such message",
    }
    assert client.post("/user/want/delete", data={"token": b[1]}).data == b'{"status":"failure","info":{}}'
    assert client.post("/user/want/delete", data={"token": b[1], "id": "1"}).data == b'{"status":"success","info":1}'
    assert client.post("/user/chat/fetchall", data={"token": b[1]}).json["data"] == []


def test_want_deleteall(client, two, make_item):
    a, b = two["a"], two["b"]
    mine = make_item(b[0])
    other = make_item(b[0])
    for kind, data in ((0, str(mine)), (0, str(mine)), (0, str(other)), (1, str(mine))):
        push(client, a[1], b[0], kind, data)
    assert client.post("/user/want/deleteall", data={"token": a[1], "itemid": str(mine)}).json == {
        "status": "failure",
        "info": "Insufficient permissions",
    }
    assert client.post("/user/want/deleteall", data={"token": b[1], "itemid": "999"}).data == b'{"status":"failure"}'
    assert (
        client.post("/user/want/deleteall", data={"token": b[1], "itemid": str(mine)}).data
        == b'{"status":"success","info":2}'
    )
    left = client.post("/user/chat/fetchall", data={"token": b[1]}).json["data"]
    assert [(m["type"], m["data"]) for m in left] == [(0, str(other)), (1, str(mine))]


def test_recommendations(client, make_user, make_item, token_for):
    me, seller = make_user("1", "pw"), make_user("2", "pw")
    books = [make_item(seller, type=6) for _ in range(3)]
    phones = [make_item(seller, type=1) for _ in range(12)]
    got_mine = make_item(me, type=6)  # my own post: a category I care about, never recommended
    make_item(seller, type=6, sold=2)  # sold: never recommended
    token = token_for(me)
    client.post("/fav/add", data={"token": token, "data": f"[{books[0]}]"})
    got = client.get(f"/recommend/{me}").json
    assert len(got) == 10
    assert got[:2] == [books[2], books[1]]  # favoured category first, newest first, favourited left out
    assert set(got[2:]) <= set(phones) and got[2:] == sorted(got[2:], reverse=True)
    # an unknown person gets the newest items on sale (my post is one; the sold one is not)
    on_sale = sorted(books + phones + [got_mine], reverse=True)
    assert client.get("/recommend/999").json == on_sale[:10]
    assert client.get("/recommend/abc").data == b"[]"
