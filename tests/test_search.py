"""Search index maintenance and the /item/search wire shape (relevance: test_search_relevance)."""

import json
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import http_post

INVALID = {"status": "failure", "info": "invaild request"}


def search(client, query, method="good", **extra):
    return client.post("/item/search", data={"method": method, "query": query, **extra}).json


def titles(app, client, query):
    app.extensions["foof.search"].flush(10)
    return [hit["_source"]["title"] for hit in search(client, query)["hits"]["hits"]]


def add(client, token, title, sold="1", note="东门自提"):
    reply = client.post(
        "/item/add",
        data={
            "token": token,
            "title": title,
            "type": "1",
            "price": "39.9",
            "depreciatione": "90",
            "note": note,
            "sold": sold,
        },
    )
    return reply.json["data"]["itemid"]


def test_es_shape(app, client, user):
    itemid = add(client, user[1], "九成新小米充电宝", note="梅园自提")
    app.extensions["foof.search"].flush(10)
    reply = client.post("/item/search", data={"method": "good", "query": "充电宝"})
    body = reply.data.decode()
    assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
    data = json.loads(body)
    assert list(data) == ["took", "timed_out", "_shards", "hits"]
    assert isinstance(data["took"], int) and data["timed_out"] is False
    assert data["_shards"] == {"total": 5, "successful": 5, "skipped": 0, "failed": 0}
    assert data["hits"]["total"] == 1 and isinstance(data["hits"]["max_score"], float)
    hit = data["hits"]["hits"][0]
    assert list(hit) == ["_index", "_type", "_id", "_score", "_source"]
    assert (hit["_index"], hit["_type"], hit["_id"]) == ("index-goods", "goods", str(itemid))
    assert hit["_source"] == {"note": "梅园自提", "price": 39.9, "title": "九成新小米充电宝"}
    assert list(hit["_source"]) == ["note", "price", "title"]
    assert '"_shards":{"total":5,"successful":5,"skipped":0,"failed":0}' in body


def test_no_hits_shape(client):
    assert (
        client.post("/item/search", data={"method": "good", "query": "jd"})
        .data.decode()
        .endswith(
            ',"timed_out":false,"_shards":{"total":5,"successful":5,"skipped":0,"failed":0},'
            '"hits":{"total":0,"max_score":null,"hits":[]}}'
        )
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"method": "item", "query": "x"},
        {"query": "x"},
        {"method": "good", "query": "x", "size": "101"},
        {"method": "good", "query": "x", "size": "-1"},
        {"method": "good", "query": "x", "from": "-1"},
        {"method": "good", "query": "x", "from": "abc"},
        {"method": "good", "query": "x", "from": "9990", "size": "20"},
    ],
)
def test_bad_requests(client, fields):
    assert client.post("/item/search", data=fields).json == INVALID


def test_odd_queries_are_handled(client):
    for query in ["", "   ", "，。！", "😀", "x" * 5000, "' OR 1=1 --", "title:foo AND note:*"]:
        reply = client.post("/item/search", data={"method": "good", "query": query})
        assert reply.status_code == 200 and reply.json["hits"]["total"] == 0
    assert client.post("/item/search", json={"method": "good", "query": ["a"]}).json == INVALID


def test_index_follows_every_change(app, client, make_user, token_for):
    seller, buyer = make_user("1", "pw"), make_user("2", "pw")
    token = token_for(seller)
    itemid = add(client, token, "联想笔记本电脑")
    assert titles(app, client, "笔记本") == ["联想笔记本电脑"]
    client.post("/item/modify", data={"token": token, "itemid": itemid, "title": "罗技无线鼠标"})
    assert titles(app, client, "笔记本") == []
    assert titles(app, client, "鼠标") == ["罗技无线鼠标"]
    client.post("/item/order", data={"token": token, "itemid": itemid, "to": buyer})
    assert titles(app, client, "鼠标") == []  # reserved: not on sale
    client.post("/item/reset", data={"token": token, "itemid": itemid})
    assert titles(app, client, "鼠标") == ["罗技无线鼠标"]
    client.post("/item/order", data={"token": token, "itemid": itemid, "to": buyer})
    client.post("/item/trade", data={"token": token, "itemid": itemid})
    assert titles(app, client, "鼠标") == []
    other = add(client, token, "罗技机械键盘")
    client.post("/item/delete", data={"token": token, "itemid": other})
    assert titles(app, client, "罗技") == []


def test_want_posts_are_found(app, client, user):
    add(client, user[1], "求购二手自行车", sold="-1")
    assert titles(app, client, "自行车") == ["求购二手自行车"]


def test_users_index(app, client, user):
    uuid, token = user
    client.post("/user/modify", data={"token": token, "username": "梅园小王", "info": "出闲置教材", "address": "梅园"})
    app.extensions["foof.search"].flush(10)
    data = search(client, "小王", method="user")
    hit = data["hits"]["hits"][0]
    assert (hit["_index"], hit["_type"], hit["_id"]) == ("index-users", "users", str(uuid))
    assert hit["_source"] == {"username": "梅园小王", "info": "出闲置教材", "address": "梅园", "score": 10}
    assert "phonenumber" not in json.dumps(data) and "13800000001" not in json.dumps(data)


def test_paging(app, client, user):
    for n in range(7):
        add(client, user[1], f"考研资料第{n}套")
    app.extensions["foof.search"].flush(10)
    page1 = search(client, "考研资料", size="3")
    page3 = search(client, "考研资料", size="3", **{"from": "6"})
    assert page1["hits"]["total"] == 7 and len(page1["hits"]["hits"]) == 3
    assert len(page3["hits"]["hits"]) == 1
    everything = {h["_id"] for h in search(client, "考研资料")["hits"]["hits"]}
    assert len(everything) == 7


def test_missing_index_answers_empty_and_logs_hint(app, client, user, caplog):
    add(client, user[1], "小米充电宝")
    backend = app.extensions["foof.search"]
    backend.flush(10)
    backend.close()
    shutil.rmtree(backend.root)
    reply = client.post("/item/search", data={"method": "good", "query": "充电宝"})
    assert reply.status_code == 200 and reply.json["hits"] == {"total": 0, "max_score": None, "hits": []}
    assert any("reindex" in record.getMessage() for record in caplog.records)
    add(client, user[1], "小米手环")  # writing with no index must not fail the request
    backend.flush(10)


def test_reindex_command_rebuilds_and_swaps(app, client, runner, make_item, user):
    for title in ("小米充电宝", "华为手机", "捷安特山地自行车"):
        make_item(user[0], title=title)  # rows written behind the index's back
    make_item(user[0], title="已售出的充电宝", sold=2)
    backend = app.extensions["foof.search"]
    before = backend.current_dir()
    assert titles(app, client, "充电宝") == []
    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0, result.output
    assert "indexed 3 items on sale and 1 users" in result.output
    after = backend.current_dir()
    assert after != before and not os.path.exists(before)
    assert titles(app, client, "充电宝") == ["小米充电宝"]


def test_init_db_builds_a_missing_index(app, runner, make_item, user, client):
    make_item(user[0], title="小米充电宝")
    backend = app.extensions["foof.search"]
    backend.close()
    shutil.rmtree(backend.root)
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0 and "search index missing: building it" in result.output
    assert titles(app, client, "充电宝") == ["小米充电宝"]


def test_many_threads_writing_lose_nothing(live_server, user):
    """40 listings added by 8 threads through waitress: every one becomes searchable."""
    uuid, token = user
    fields = {"token": token, "type": "1", "price": "10", "depreciatione": "9", "note": "东门", "sold": "1"}
    with ThreadPoolExecutor(8) as pool:
        replies = list(
            pool.map(
                lambda n: http_post(live_server.url + "/item/add", {**fields, "title": f"考研资料{n}号"}), range(40)
            )
        )
    assert all(status == 200 and b'"status":"success"' in body for status, body in replies)
    deadline = time.monotonic() + 20
    while True:
        status, body = http_post(
            live_server.url + "/item/search", {"method": "good", "query": "考研资料", "size": "100"}
        )
        total = json.loads(body)["hits"]["total"]
        if total == 40 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert status == 200 and total == 40


def test_common_words_give_newest_first(app, client, user, monkeypatch):
    """Words in a large share of the listings (at 100k: "九成新", "自提") are answered newest
    first from cached document sets; here every word counts as common."""
    from foof.search import whoosh_backend

    monkeypatch.setattr(whoosh_backend, "COMMON_MIN", 0)
    monkeypatch.setattr(whoosh_backend, "COMMON_RATIO", 0.0)
    ids = [add(client, user[1], title) for title in ("九成新小米手环", "九成新华为手机", "全新罗技鼠标", "九成新台灯")]
    add(client, user[1], "自行车", note="毕业清仓，九成新")
    app.extensions["foof.search"].flush(10)
    data = search(client, "九成新", size="3")
    bike = str(ids[3] + 1)
    assert data["hits"]["total"] == 4  # three titles and one note
    assert [h["_id"] for h in data["hits"]["hits"]] == [bike, str(ids[3]), str(ids[1])]
    assert all(h["_score"] > 0 for h in data["hits"]["hits"])
    assert data["hits"]["max_score"] == max(h["_score"] for h in data["hits"]["hits"])
    page2 = search(client, "九成新", size="3", **{"from": "3"})
    assert [h["_id"] for h in page2["hits"]["hits"]] == [str(ids[0])]  # no repeats across pages
    note_only = search(client, "毕业清仓")
    assert [h["_source"]["title"] for h in note_only["hits"]["hits"]] == ["自行车"]
    client.post("/item/delete", data={"token": user[1], "itemid": ids[3]})
    app.extensions["foof.search"].flush(10)
    assert [h["_id"] for h in search(client, "九成新", size="2")["hits"]["hits"]] == [bike, str(ids[1])]


def test_a_change_made_during_a_rebuild_reaches_the_new_index(app, client, make_item, user, monkeypatch):
    """A listing renamed after the rebuild read it, while the rebuild still runs: the writer
    used to apply the change to the old generation (deleted a moment later), so the new
    index kept the old title. It now waits for the swap and applies it to the new one."""
    from foof.extensions import db
    from foof.models import Item
    from foof.search.whoosh_backend import WhooshBackend

    itemid = make_item(user[0], title="旧标题的台灯")
    backend = app.extensions["foof.search"]
    fill = WhooshBackend._fill
    renamed = []

    def fill_then_rename(kind, writer, progress, batch):
        count = fill(kind, writer, progress, batch)
        if kind == "goods":  # the goods rows are read: a request renames one now
            db.session.get(Item, itemid).title = "新标题的护眼灯"
            db.session.commit()
            backend.enqueue("goods", itemid)
            renamed.append(backend.flush(0.5))  # the writer may not apply it yet
        return count

    monkeypatch.setattr(WhooshBackend, "_fill", staticmethod(fill_then_rename))
    with app.app_context():
        backend.rebuild()
    assert renamed == [False]  # it waited for the rebuild
    assert titles(app, client, "护眼灯") == ["新标题的护眼灯"]
    assert titles(app, client, "台灯") == []


def test_rebuilds_while_the_writer_is_busy_lose_nothing_and_leak_nothing(app, client, user, caplog):
    """Listings added while reindex runs again and again: every one is found afterwards, no
    update fails, and no half-written segment file is left open (a ResourceWarning, which
    the suite turns into an error, once failed an unrelated test this way)."""
    backend = app.extensions["foof.search"]
    with ThreadPoolExecutor(2) as pool:
        adding = pool.submit(lambda: [add(client, user[1], f"考研真题{n}套") for n in range(30)])
        while not adding.done():
            with app.app_context():
                backend.rebuild()
        adding.result()
    assert len(titles(app, client, "考研真题")) == 30
    assert not [r for r in caplog.records if "search index update failed" in r.getMessage()]


def test_searches_during_rebuilds_are_answered(app, client, user):
    """A search that opens the generation a rebuild is deleting still answers (the new one)."""
    for n in range(5):
        add(client, user[1], f"二手吉他{n}号")
    backend = app.extensions["foof.search"]
    backend.flush(10)
    backend.cache_answers = False  # every search opens the index afresh
    with ThreadPoolExecutor(2) as pool:
        searching = pool.submit(
            lambda: [
                app.test_client().post("/item/search", data={"method": "good", "query": "吉他"}) for _ in range(150)
            ]
        )
        while not searching.done():
            with app.app_context():
                backend.rebuild()
        replies = searching.result()
    assert {reply.status_code for reply in replies} == {200}
    assert {reply.json["hits"]["total"] for reply in replies} == {5}


def test_a_rebuild_reads_the_rows_as_they_are_once_it_holds_the_index(app, client, make_item, user):
    """`reindex` counts the rows first; on MySQL that read fixed the transaction's snapshot,
    so a listing renamed between the count and the rebuild kept its old title in the new
    index (its update had gone to the old generation, deleted by the swap)."""
    from sqlalchemy import func, select, update

    from foof.extensions import db
    from foof.models import Item

    itemid = make_item(user[0], title="旧的台灯")
    backend = app.extensions["foof.search"]
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Item)).scalar() == 1  # as reindex counts
        with db.engine.begin() as other:  # a request on another connection renames it meanwhile
            other.execute(update(Item).where(Item.itemid == itemid).values(title="新的护眼灯"))
        backend.rebuild()
    assert titles(app, client, "护眼灯") == ["新的护眼灯"]


def test_two_rebuilds_at_once_both_finish_and_leave_one_generation(app, client, make_item, user):
    make_item(user[0], title="二手显示器")
    backend = app.extensions["foof.search"]

    def rebuild():
        with app.app_context():
            return backend.rebuild()

    with ThreadPoolExecutor(2) as pool:
        counts = list(pool.map(lambda _: rebuild(), range(2)))
    assert counts == [{"goods": 1, "users": 1}] * 2
    generations = [name for name in os.listdir(backend.root) if name.startswith(("gen-", "trash-"))]
    assert generations == [os.path.basename(backend.current_dir())]
    assert titles(app, client, "显示器") == ["二手显示器"]
