"""Favourites: deduplicated by a unique index, so concurrent adds cannot double a row.

The list leaves out favourites whose item ``GET /item/<id>`` no longer answers (deleted, 4 /
-4, or a row gone from the table): the app renders every entry through that route and
crashes on ``{"status":"none"}`` (issue #12 item 2). The favourite rows themselves are kept
(a read never writes).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Insert, bindparam, delete, insert, select

from foof.domain import reads
from foof.domain.errors import Invalid
from foof.domain.listings import DELETED_STATES, INT_MAX, INT_MIN
from foof.domain.tx import atomic
from foof.extensions import db
from foof.models import Favourite, Item

MAX_IDS = 1000


def parse_ids(data: Any) -> list[int]:
    """``data`` as sent: a JSON array of integers, or a string holding one."""
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            raise Invalid() from None
    if not isinstance(data, list) or len(data) > MAX_IDS:
        raise Invalid()
    for value in data:
        if isinstance(value, bool) or not isinstance(value, int) or not INT_MIN <= value <= INT_MAX:
            raise Invalid()
    return list(dict.fromkeys(data))


_favourites, _items = Favourite.__table__, Item.__table__
#: Built once (the app lists favourites on every visit of its page): the rows as read-only
#: records on the per-thread read connection (foof/domain/reads.py), about a quarter of the
#: ORM load's cost. Deleted states spelled as ``!=`` pairs: a compiled ``NOT IN`` list would
#: need re-rendering per call.
_OF_USER = (
    select(_favourites.c.id, _favourites.c.itemid, _favourites.c.uuid)
    .join(_items, _items.c.itemid == _favourites.c.itemid)
    .where(_favourites.c.uuid == bindparam("uuid"), *(_items.c.sold != state for state in DELETED_STATES))
    .order_by(_favourites.c.id)
)


def of_user(uuid: int) -> list[reads.Record]:
    """This user's favourites of live items, by ``id``; live as ``listings.view`` judges it.
    Read-only rows with the favourite's columns (``id``, ``itemid``, ``uuid``)."""
    return reads.every(_OF_USER, {"uuid": uuid})


def _insert_ignoring_duplicates() -> Insert:
    """INSERT that skips rows the unique index already holds, in each dialect's words."""
    dialect = db.session.get_bind().dialect.name
    stmt = insert(Favourite)
    if dialect == "sqlite":
        return stmt.prefix_with("OR IGNORE")
    if dialect in ("mysql", "mariadb"):
        return stmt.prefix_with("IGNORE")
    return stmt


def add(uuid: int, data: Any) -> int:
    ids = parse_ids(data)

    def work() -> int:
        if not ids:
            return 0
        existing = set(
            db.session.execute(
                select(Item.itemid).where(Item.itemid.in_(ids), Item.sold.not_in(DELETED_STATES))
            ).scalars()
        )
        already = set(
            db.session.execute(
                select(Favourite.itemid).where(Favourite.uuid == uuid, Favourite.itemid.in_(ids))
            ).scalars()
        )
        rows = [{"itemid": i, "uuid": uuid} for i in ids if i in existing and i not in already]
        if rows:
            db.session.execute(_insert_ignoring_duplicates(), rows)
        return len(rows)

    return atomic(work)


def remove(uuid: int, data: Any) -> None:
    ids = parse_ids(data)
    if ids:
        atomic(lambda: db.session.execute(delete(Favourite).where(Favourite.uuid == uuid, Favourite.itemid.in_(ids))))
