"""Issue #12 items 1 and 2: what the app's screens list.

Item 1: the home page fills its goods tab (``sold == 1``) and its want tab (``sold == -1``)
from one ``GET /recommend/<uuid>``; both kinds are recommended, each kind up to
``recommend.PER_KIND`` (10), interleaved, still category-aware.

Item 2: every list the app renders entry by entry through ``GET /item/<id>`` (favourites,
recommendations, search, published, finished) may only name ids that answer a row there:
not an item deleted through ``/item/delete`` (4 / -4), not a row that vanished from the
table, and the old server's state 3 exactly as ``GET /item`` judges it. The app sends JSON.
"""

import pytest
from sqlalchemy import text

from foof.extensions import db
from tests.conftest import post_json

OK = {"status": "success"}


@pytest.fixture
def people(make_user, token_for):
    """``me`` (the app's user), ``seller`` and ``other``: ``{name: (uuid, token)}``."""
    out = {}
    for n, name in enumerate(("me", "seller", "other"), start=1):
        uuid = make_user(f"1380000000{n}", "pw")
        out[name] = (uuid, token_for(uuid))
    return out


def recommend(client, uuid):
    reply = client.get(f"/recommend/{uuid}")
    assert reply.status_code == 200 and reply.headers["Content-Type"] == "application/json; charset=utf-8"
    return reply.json


def sold_of(client, itemid):
    return client.get(f"/item/{itemid}").json["sold"]


def tabs(client, ids):
    """Split a recommendation list as the app does: (goods tab, want tab)."""
    kinds = {i: sold_of(client, i) for i in ids}
    return [i for i in ids if kinds[i] == 1], [i for i in ids if kinds[i] == -1]


# -- item 1: both home tabs ---------------------------------------------------------------


def test_the_want_tab_is_filled_when_want_posts_exist(client, people, make_item):
    me, seller = people["me"][0], people["seller"][0]
    goods = [make_item(seller, type=1, sold=1) for _ in range(15)]
    wants = [make_item(seller, type=1, sold=-1) for _ in range(3)]
    got = recommend(client, me)
    goods_tab, want_tab = tabs(client, got)
    assert want_tab == sorted(wants, reverse=True)  # every want post, newest first
    assert goods_tab == sorted(goods, reverse=True)[:10]  # the goods tab keeps its 10
    assert len(got) == len(set(got)) == 13


def test_only_want_posts_fill_the_want_tab(client, people, make_item):
    me, seller = people["me"][0], people["seller"][0]
    wants = [make_item(seller, type=3, sold=-1) for _ in range(12)]
    got = recommend(client, me)
    assert got == sorted(wants, reverse=True)[:10]


def test_the_kinds_are_interleaved_so_any_prefix_has_both(client, people, make_item):
    me, seller = people["me"][0], people["seller"][0]
    wants = [make_item(seller, sold=-1) for _ in range(2)]
    goods = [make_item(seller, sold=1) for _ in range(5)]
    got = recommend(client, me)
    g, w = sorted(goods, reverse=True), sorted(wants, reverse=True)
    assert got == [g[0], w[0], g[1], w[1], g[2], g[3], g[4]]


def test_each_tab_favours_the_categories_i_care_about(client, people, make_item):
    me, my_token = people["me"]
    seller = people["seller"][0]
    books_wanted = [make_item(seller, type=6, sold=-1) for _ in range(2)]
    bikes_wanted = [make_item(seller, type=3, sold=-1) for _ in range(12)]
    books = [make_item(seller, type=6, sold=1) for _ in range(3)]
    phones = [make_item(seller, type=1, sold=1) for _ in range(12)]
    make_item(me, type=6, sold=-1)  # my own want post: category 6 is mine, never recommended
    make_item(seller, type=6, sold=-2)  # a finished want post: never
    make_item(seller, type=6, sold=-4)  # a deleted want post: never
    make_item(seller, type=6, sold=-3)  # a reserved want post: not on sale
    assert post_json(client, "/fav/add", {"token": my_token, "data": [books[0]]}).json == OK
    goods_tab, want_tab = tabs(client, recommend(client, me))
    # category 6 first in each tab, newest first; the favourited one itself left out
    assert goods_tab[:2] == [books[2], books[1]]
    assert goods_tab[2:] == sorted(phones, reverse=True)[:8]
    assert want_tab[:2] == [books_wanted[1], books_wanted[0]]
    assert want_tab[2:] == sorted(bikes_wanted, reverse=True)[:8]


def test_a_stranger_gets_the_newest_of_both_kinds(client, people, make_item):
    seller = people["seller"][0]
    goods = [make_item(seller, sold=1) for _ in range(11)]
    wants = [make_item(seller, sold=-1) for _ in range(11)]
    got = recommend(client, 999)
    goods_tab, want_tab = tabs(client, got)
    assert goods_tab == sorted(goods, reverse=True)[:10]
    assert want_tab == sorted(wants, reverse=True)[:10]
    assert client.get("/recommend/abc").data == b"[]"


# -- item 2: no list points the app at an item GET /item calls none -----------------------


def vanish(app, itemid):
    """The row disappears from the table (an admin, an old server's DELETE)."""
    with app.app_context():
        db.session.execute(text("DELETE FROM items WHERE itemid = :i"), {"i": itemid})
        db.session.commit()


def answers_a_row(client, itemid):
    body = client.get(f"/item/{itemid}").json
    return body.get("status") == "success" and body.get("itemid") == itemid


@pytest.fixture
def gone(app, client, people, make_item):
    """Items every list could have named, then made to answer ``none`` (or not) at GET /item:
    deleted through the app (a sale and a want post), rows removed from the table (one on
    sale, one reserved for ``me``), the old server's 3 with nobody named and reserved for
    ``me``, and one live item. ``me`` favourited them all while they were on sale."""
    seller, seller_token = people["seller"]
    me, my_token = people["me"]
    ids = {
        "deleted": make_item(seller, type=6, title="高等数学 同济版", sold=1),
        "deleted_want": make_item(seller, type=6, title="求购 高等数学", sold=-1),
        "vanished": make_item(seller, type=6, title="线性代数 教材", sold=1),
        "vanished_mine": make_item(seller, type=6, title="复变函数", sold=1),
        "old3": make_item(seller, type=6, title="大学物理 教材", sold=1),
        "old3_mine": make_item(seller, type=6, title="英汉词典 牛津", sold=1),
        "live": make_item(seller, type=6, title="概率论 教材", sold=1),
    }
    with app.app_context():  # rows made directly: index them as `flask reindex` would
        app.extensions["foof.search"].rebuild()
    assert set(search_ids(client, "教材")[0]) == {ids[n] for n in ("vanished", "old3", "live")}
    assert post_json(client, "/fav/add", {"token": my_token, "data": list(ids.values())}).json == OK
    # finished lists items reserved for or sold to me: reserve two of them for me first
    for name in ("deleted", "vanished_mine"):
        assert post_json(client, "/item/order", {"token": seller_token, "itemid": ids[name], "to": me}).json == OK
    for name in ("deleted", "deleted_want"):
        assert post_json(client, "/item/delete", {"token": seller_token, "itemid": ids[name]}).json == OK
    vanish(app, ids["vanished"])
    vanish(app, ids["vanished_mine"])
    with app.app_context():  # the old server's 3: deleted (nobody named) or reserved for me
        db.session.execute(text("UPDATE items SET sold = 3, `to` = 0 WHERE itemid = :i"), {"i": ids["old3"]})
        db.session.execute(
            text("UPDATE items SET sold = 3, `to` = :me WHERE itemid = :i"), {"i": ids["old3_mine"], "me": me}
        )
        db.session.commit()
    app.extensions["foof.search"].flush(10)
    assert not answers_a_row(client, ids["deleted"]) and not answers_a_row(client, ids["vanished"])
    assert client.get(f"/item/{ids['deleted']}").json == {"status": "none"}
    return ids


def assert_every_entry_answers_a_row(client, ids, gone):
    for itemid in ids:
        assert answers_a_row(client, itemid), (itemid, client.get(f"/item/{itemid}").data)
    for name in ("deleted", "deleted_want", "vanished", "vanished_mine"):
        assert gone[name] not in ids


def judged(client, gone, names):
    """Of ``names``, the ids GET /item answers a row for (state 3 as it judges it)."""
    return [gone[n] for n in names if answers_a_row(client, gone[n])]


def test_favourites_leave_out_deleted_and_vanished_items(client, people, gone):
    reply = post_json(client, "/fav/query", {"token": people["me"][1]})
    assert reply.status_code == 200
    body = reply.json
    assert list(body) == ["status", "res"] and body["status"] == "success"
    listed = [f["itemid"] for f in body["res"]]
    assert_every_entry_answers_a_row(client, listed, gone)
    assert listed == judged(client, gone, ("old3", "old3_mine", "live"))  # still by id
    assert [f["id"] for f in body["res"]] == sorted(f["id"] for f in body["res"])
    assert gone["live"] in listed


def test_the_favourite_rows_themselves_are_kept(app, client, people, gone):
    """The favourite row itself is kept (a read never writes): only the list leaves it out."""
    with app.app_context():
        rows = db.session.execute(
            text("SELECT COUNT(*) FROM favourites WHERE uuid = :u"), {"u": people["me"][0]}
        ).scalar()
    assert rows == 7


def test_recommendations_never_name_a_gone_item(client, people, gone):
    for uuid in (people["me"][0], people["other"][0], 999):
        got = recommend(client, uuid)
        assert_every_entry_answers_a_row(client, got, gone)
        assert gone["old3"] not in got and gone["old3_mine"] not in got  # not on sale
    assert recommend(client, people["other"][0]) == [gone["live"]]


def test_published_never_names_a_gone_item(client, people, gone):
    listed = [entry["itemid"] for entry in post_json(client, "/user/published", {"uuid": people["seller"][0]}).json]
    assert_every_entry_answers_a_row(client, listed, gone)
    assert listed == judged(client, gone, ("old3", "old3_mine", "live"))


def test_finished_never_names_a_gone_item(client, people, gone):
    listed = [entry["itemid"] for entry in post_json(client, "/user/finished", {"token": people["me"][1]}).json]
    assert_every_entry_answers_a_row(client, listed, gone)
    assert listed == judged(client, gone, ("old3_mine",))


def search_ids(client, query):
    body = post_json(client, "/item/search", {"method": "good", "query": query, "size": 100}).json
    return [int(hit["_id"]) for hit in body["hits"]["hits"]], body["hits"]["total"]


def test_search_leaves_out_deleted_items(client, gone):
    listed, total = search_ids(client, "教材 高等数学 求购")
    assert gone["deleted"] not in listed and gone["deleted_want"] not in listed
    assert gone["live"] in listed
    for itemid in listed:
        if itemid != gone["vanished"]:  # the next test's subject
            assert answers_a_row(client, itemid)


def test_search_leaves_out_a_vanished_row(client, gone):
    listed, total = search_ids(client, "线性代数")
    assert gone["vanished"] not in listed and total == len(listed)
