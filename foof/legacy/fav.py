"""Legacy ``/fav`` routes (docs/legacy-wire.md §8)."""

from flask import Blueprint

from foof.domain import favourites
from foof.domain.errors import Invalid
from foof.legacy import schemas
from foof.legacy.wire import field, route

bp = Blueprint("legacy_fav", __name__)

BAD_DATA = {"status": "failure", "info": {}}  # the old server's serialised error object


@route(bp, "/fav/query", auth=True)
def query(user):
    return {"status": "success", "res": [schemas.favourite(f) for f in favourites.of_user(user.uuid)]}


@route(bp, "/fav/add", auth=True, errors={Invalid: BAD_DATA})
def add(user):
    favourites.add(user.uuid, field("data"))
    return {"status": "success"}


@route(bp, "/fav/delete", auth=True, errors={Invalid: BAD_DATA})
def delete(user):
    favourites.remove(user.uuid, field("data"))
    return {"status": "success"}
