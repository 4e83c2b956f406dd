"""Legacy chat and trade-request routes: ``/user/chat/*``, ``/user/want/*``, ``/recommend``."""

from flask import Blueprint

from foof.domain import listings, messaging, recommend
from foof.domain.errors import Invalid, ItemNotFound, MessageNotFound, NotOwner, TooFrequent, UserNotFound
from foof.legacy import schemas
from foof.legacy.wire import INVALID, field, route

bp = Blueprint("legacy_chat", __name__)

NO_PERMISSION = {"status": "failure", "info": "Insufficient permissions"}
TOO_FREQUENT = {"status": "failure", "info": "request too frequent"}  # as the login and SMS routes


@route(
    bp,
    "/user/chat/push",
    auth=True,
    errors={
        Invalid: INVALID,
        UserNotFound: {"status": "failure", "info": "no such user"},
        TooFrequent: TOO_FREQUENT,
    },
)
def push(user):
    messaging.push(user.uuid, field("to"), field("type"), field("data"))
    return {"status": "success"}


@route(bp, "/user/chat/fetchnew", auth=True)
def fetchnew(user):
    return new_messages(messaging.fetch_new(user.uuid))


def new_messages(rows):
    """The fetchnew reply (also built by the hot path, foof/legacy/hot.py)."""
    return {"status": "success", "data": [schemas.message(m) for m in rows]}


@route(bp, "/user/chat/fetchall", auth=True, errors={Invalid: INVALID})
def fetchall(user):
    rows = messaging.fetch_all(user.uuid, field("since"), field("limit"))
    return {"status": "success", "data": [schemas.message(m) for m in rows]}


@route(
    bp,
    "/user/want/delete",
    auth=True,
    errors={
        Invalid: {"status": "failure", "info": {}},
        MessageNotFound: {"status": "failure", "info": "no such message"},
        NotOwner: NO_PERMISSION,
    },
)
def want_delete(user):
    count = messaging.delete_request(user.uuid, field("id"))
    return {"status": "success", "info": count}


@route(
    bp,
    "/user/want/deleteall",
    auth=True,
    errors={
        ItemNotFound: {"status": "failure"},
        NotOwner: NO_PERMISSION,
    },
)
def want_deleteall(user):
    count = messaging.delete_requests_for_item(user.uuid, field("itemid"))
    return {"status": "success", "info": count}


@route(bp, "/recommend/<uuid>", methods=("GET",), errors={Invalid: []})
def recommendations(uuid):
    return recommend.for_user(listings.parse_id(uuid))
