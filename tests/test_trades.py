"""The trade flow: order → trade | reset, ownership, and races through real HTTP."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import http_post, post_json

OK = {"status": "success"}
NO_PERMISSION = {"status": "failure", "info": "Insufficient permissions"}
NOT_FOR_TRADE = {"status": "failure", "info": "not for trade"}
NOT_AVAILABLE = {"status": "failure", "info": "item not availabe for trade"}
INVALID = {"status": "failure", "info": "invaild request"}


@pytest.fixture
def people(make_user, token_for):
    """seller, buyer, stranger: dicts with uuid and token."""
    out = {}
    for name, phone in (("seller", "1"), ("buyer", "2"), ("stranger", "3")):
        uuid = make_user(phone, "pw")
        out[name] = {"uuid": uuid, "token": token_for(uuid)}
    return out


def call(client, path, who, json=False, **fields):
    body = {"token": who["token"], **fields}
    if json:
        return post_json(client, path, body).json
    return client.post(path, data={k: str(v) for k, v in body.items()}).json


@pytest.mark.parametrize("json", [True, False], ids=["json-mobile-app", "form-browser"])
def test_full_conversation(client, people, json, item_row):
    """The mobile app's whole flow: list, ask (type 0), order, chat, trade; and a reset."""
    seller, buyer = people["seller"], people["buyer"]
    value = (lambda v: v) if json else str
    added = call(
        client,
        "/item/add",
        seller,
        json,
        title="九成新小米充电宝",
        type=value(1),
        price=value(39.9),
        depreciatione=value(9),
        note="东门自提",
        sold=value(1),
    )
    itemid = added["data"]["itemid"]
    # buyer: "I want this"
    assert (
        call(client, "/user/chat/push", buyer, json, to=value(seller["uuid"]), type=value(0), data=value(itemid)) == OK
    )
    new = call(client, "/user/chat/fetchnew", seller, json)["data"]
    assert [(m["from"], m["type"], m["data"], m["fetched"]) for m in new] == [(buyer["uuid"], 0, str(itemid), False)]
    # seller agrees: reserve for the buyer and tell them (-2 agreed)
    assert call(client, "/item/order", seller, json, to=value(buyer["uuid"]), itemid=value(itemid)) == OK
    assert (
        call(client, "/user/chat/push", seller, json, to=value(buyer["uuid"]), type=value(-2), data=value(itemid)) == OK
    )
    assert item_row(itemid)["sold"] == 3 and item_row(itemid)["to"] == buyer["uuid"]
    # a second order while reserved is refused
    assert (
        call(client, "/item/order", seller, json, to=value(people["stranger"]["uuid"]), itemid=value(itemid))
        == NOT_FOR_TRADE
    )
    # buyer sees the agreement, then finishes the trade
    assert [m["type"] for m in call(client, "/user/chat/fetchnew", buyer, json)["data"]] == [-2]
    assert call(client, "/item/trade", buyer, json, itemid=value(itemid)) == OK
    assert item_row(itemid)["sold"] == 2
    assert [i["itemid"] for i in call(client, "/user/finished", buyer, json) if isinstance(i, dict)] == [itemid]
    assert call(client, "/item/trade", buyer, json, itemid=value(itemid)) == NOT_AVAILABLE
    # the seller clears the handled requests
    assert call(client, "/user/want/deleteall", seller, json, itemid=value(itemid)) == {"status": "success", "info": 1}


def test_order_rules(client, people, make_item, item_row):
    seller, buyer, stranger = people["seller"], people["buyer"], people["stranger"]
    itemid = make_item(seller["uuid"])
    assert call(client, "/item/order", stranger, to=buyer["uuid"], itemid=itemid) == NO_PERMISSION
    assert call(client, "/item/order", seller, to=999, itemid=itemid) == NOT_FOR_TRADE
    assert call(client, "/item/order", seller, to="abc", itemid=itemid) == NOT_FOR_TRADE
    assert call(client, "/item/order", seller, to=seller["uuid"], itemid=itemid) == NOT_FOR_TRADE
    assert call(client, "/item/order", seller, to=buyer["uuid"], itemid=999) == NOT_FOR_TRADE
    assert item_row(itemid)["sold"] == 1
    want = make_item(seller["uuid"], sold=-1)
    assert call(client, "/item/order", seller, to=buyer["uuid"], itemid=want) == OK
    assert item_row(want)["sold"] == -3
    assert call(client, "/item/trade", seller, itemid=want) == OK
    assert item_row(want)["sold"] == -2


def test_deleted_item_cannot_be_traded(client, people, make_item, item_row):
    seller, buyer = people["seller"], people["buyer"]
    itemid = make_item(seller["uuid"])
    assert call(client, "/item/delete", seller, itemid=itemid) == OK
    assert call(client, "/item/order", seller, to=buyer["uuid"], itemid=itemid) == NOT_FOR_TRADE
    assert call(client, "/item/trade", seller, itemid=itemid) == NOT_AVAILABLE
    assert item_row(itemid)["sold"] == 4


def test_trade_only_by_buyer_or_owner(client, people, make_item, item_row):
    seller, buyer, stranger = people["seller"], people["buyer"], people["stranger"]
    itemid = make_item(seller["uuid"])
    assert call(client, "/item/trade", seller, itemid=itemid) == NOT_AVAILABLE  # not reserved
    call(client, "/item/order", seller, to=buyer["uuid"], itemid=itemid)
    assert call(client, "/item/trade", stranger, itemid=itemid) == NOT_AVAILABLE
    assert item_row(itemid)["sold"] == 3
    assert call(client, "/item/trade", seller, itemid=itemid) == OK


def test_reset(client, people, make_item, item_row):
    seller, buyer, stranger = people["seller"], people["buyer"], people["stranger"]
    itemid = make_item(seller["uuid"])
    assert call(client, "/item/reset", seller, itemid=itemid) == INVALID  # not reserved
    assert call(client, "/item/reset", seller, itemid=999) == {"status": "failure"}
    call(client, "/item/order", seller, to=buyer["uuid"], itemid=itemid)
    assert call(client, "/item/reset", stranger, itemid=itemid) == NO_PERMISSION
    assert call(client, "/item/reset", buyer, itemid=itemid) == NO_PERMISSION
    assert call(client, "/item/reset", seller, itemid=itemid) == OK
    row = item_row(itemid)
    assert (row["sold"], row["to"]) == (1, 0)


def _race(url, requests):
    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(lambda r: http_post(url + r[0], r[1]), requests))


def test_twenty_buyers_race_for_one_item(live_server, make_user, make_item, token_for, item_row):
    seller = make_user("1", "pw")
    buyers = [make_user(f"2{n:02d}", "pw") for n in range(20)]
    itemid = make_item(seller)
    token = token_for(seller)
    replies = _race(live_server.url, [("/item/order", {"token": token, "itemid": itemid, "to": b}) for b in buyers])
    assert all(status == 200 for status, _ in replies)
    wins = [i for i, (_, body) in enumerate(replies) if body == b'{"status":"success"}']
    assert len(wins) == 1
    assert all(
        body == b'{"status":"failure","info":"not for trade"}' for i, (_, body) in enumerate(replies) if i not in wins
    )
    row = item_row(itemid)
    assert (row["sold"], row["to"]) == (3, buyers[wins[0]])


def test_twenty_trades_race(live_server, make_user, make_item, token_for, item_row):
    seller, buyer = make_user("1", "pw"), make_user("2", "pw")
    itemid = make_item(seller, sold=3, to=buyer)
    tokens = [token_for(seller), token_for(buyer)] * 10
    replies = _race(live_server.url, [("/item/trade", {"token": t, "itemid": itemid}) for t in tokens])
    assert sum(body == b'{"status":"success"}' for _, body in replies) == 1
    assert item_row(itemid)["sold"] == 2


def test_delete_racing_orders(live_server, make_user, make_item, token_for, item_row):
    seller = make_user("1", "pw")
    buyers = [make_user(f"2{n:02d}", "pw") for n in range(10)]
    itemid = make_item(seller)
    token = token_for(seller)
    requests = [("/item/order", {"token": token, "itemid": itemid, "to": b}) for b in buyers]
    requests.insert(5, ("/item/delete", {"token": token, "itemid": itemid}))
    replies = _race(live_server.url, requests)
    won_delete = replies[5][1] == b'{"status":"success"}'
    order_wins = sum(body == b'{"status":"success"}' for i, (_, body) in enumerate(replies) if i != 5)
    row = item_row(itemid)
    assert won_delete  # the owner may always delete; it only decides what state it leaves
    assert row["sold"] == 4 and order_wins <= 1
