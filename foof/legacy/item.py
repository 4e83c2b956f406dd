"""Legacy ``/item`` routes (docs/legacy-wire.md §6)."""

from flask import Blueprint

from foof.domain import listings, search, trades
from foof.domain.errors import (
    Invalid,
    ItemNotFound,
    NotAnImage,
    NotForTrade,
    NotOwner,
)
from foof.legacy import schemas
from foof.legacy.wire import INVALID, field, fields, route, uploaded_files

bp = Blueprint("legacy_item", __name__)

SUCCESS = {"status": "success"}
NO_PERMISSION = {"status": "failure", "info": "Insufficient permissions"}
NOT_FOR_TRADE = {"status": "failure", "info": "not for trade"}
#: The fields /item/add stores; the echo keeps the client's order and values for these.
ITEM_FIELDS = ("title", "type", "price", "depreciatione", "note", "sold")
#: Server-owned fields: echoed with the server's value (at the client's position if sent).
SERVER_FIELDS = ("uuid", "imgurl", "to")


@route(bp, "/item/search", errors={Invalid: INVALID})
def search_items():
    return search.find(field("method"), field("query"), field("from"), field("size"))


@route(bp, "/item/<itemid>", methods=("GET",), errors={ItemNotFound: {"status": "none"}})
def query(itemid):
    return schemas.item(listings.view(itemid), status="success")


@route(bp, "/item/add", auth=True, errors={Invalid: INVALID})
def add(user):
    sent = fields()
    item = listings.add(user.uuid, sent)
    server = {"uuid": item.uuid, "imgurl": item.imgurl, "to": item.to}
    # Echo as koa did: itemid, then the client's keys in its order with its values (types
    # kept: strings from forms, JSON types from JSON), server-owned keys at the client's
    # position with the server's value, and the server keys the client did not send last.
    data = {"itemid": item.itemid}
    for key, value in sent.items():
        if key in ITEM_FIELDS:
            data[key] = value
        elif key in SERVER_FIELDS:
            data[key] = server[key]
    for key in SERVER_FIELDS:
        data.setdefault(key, server[key])
    return {"status": "success", "data": data}


@route(bp, "/item/modify", auth=True, errors={ItemNotFound: 403, NotOwner: 403, Invalid: {"status": "false"}})
def modify(user):
    listings.modify(user.uuid, field("itemid"), fields())
    return SUCCESS


@route(
    bp,
    "/item/delete",
    auth=True,
    errors={
        # sic: the old server ran two messages together, and the clients match this string.
        ItemNotFound: {"status": "failure", "info": "invaild requestno such item"},
        NotOwner: {"status": "failure", "info": "invaild requestno such item"},
    },
)
def delete(user):
    listings.delete(user.uuid, field("itemid"))
    return SUCCESS


@route(
    bp,
    "/item/image",
    auth=True,
    errors={
        Invalid: INVALID,
        NotAnImage: INVALID,
        ItemNotFound: INVALID,
        NotOwner: INVALID,
    },
)
def image(user):
    uploads = [storage.read() for storage in uploaded_files()]
    urls = listings.set_images(user.uuid, field("itemid"), uploads)
    return {"status": "success", "imgurl": urls}


@route(
    bp,
    "/item/order",
    auth=True,
    errors={
        NotOwner: NO_PERMISSION,
        ItemNotFound: NOT_FOR_TRADE,
        NotForTrade: NOT_FOR_TRADE,
    },
)
def order(user):
    trades.order(user.uuid, field("itemid"), field("to"))
    return SUCCESS


@route(
    bp,
    "/item/trade",
    auth=True,
    errors={
        ItemNotFound: {"status": "failure", "info": "item not availabe for trade"},  # sic
        NotForTrade: {"status": "failure", "info": "item not availabe for trade"},
    },
)
def trade(user):
    trades.trade(user.uuid, field("itemid"))
    return SUCCESS


@route(
    bp,
    "/item/reset",
    auth=True,
    errors={
        ItemNotFound: {"status": "failure"},
        NotOwner: NO_PERMISSION,
        trades.NotReserved: INVALID,
    },
)
def reset(user):
    trades.reset(user.uuid, field("itemid"))
    return SUCCESS
