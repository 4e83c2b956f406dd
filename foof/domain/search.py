"""Search requests: validate, analyse the query, ask the search backend, time it."""

from __future__ import annotations

import time
from typing import Any

from flask import current_app
from sqlalchemy import select

from foof.domain import events
from foof.domain.errors import Invalid
from foof.domain.listings import ON_SALE, parse_int
from foof.extensions import db
from foof.models import Item
from foof.search.analyzer import query_words
from foof.search.backend import Hit, es_response

METHODS = ("good", "user")
MAX_SIZE = 100
MAX_WINDOW = 10_000  # Elasticsearch's max_result_window
MAX_QUERY = 200


def find(method: str, query: Any, offset: Any = None, size: Any = None) -> dict[str, Any]:
    """The ES-shaped answer for ``query``; :class:`Invalid` for a bad method or paging."""
    started = time.perf_counter()
    if method not in METHODS:
        raise Invalid()
    offset = 0 if offset in (None, "") else parse_int(offset)
    size = MAX_SIZE if size in (None, "") else parse_int(size)
    if offset < 0 or not 0 <= size <= MAX_SIZE or offset + size > MAX_WINDOW:
        raise Invalid()
    if query is None:
        query = ""
    if isinstance(query, (int, float)) and not isinstance(query, bool):
        query = str(query)
    if not isinstance(query, str):
        raise Invalid()
    words = query_words(query[:MAX_QUERY])
    backend = current_app.extensions["foof.search"]
    total, hits = backend.search(method, words, offset, size)
    if method == "good" and hits:
        total, hits = _on_sale_only(total, hits)
    took = (time.perf_counter() - started) * 1000
    return es_response(method, took, total, hits)


def _on_sale_only(total: int, hits: list[Hit]) -> tuple[int, list[Hit]]:
    """Hits whose row is still on sale. The index follows every change the service commits,
    but a row deleted or changed behind the service's back (by hand in the database) would
    stay found until ``flask reindex``; the app renders every hit through ``GET /item``, so
    such a hit is dropped here (one primary-key read for the page) and the index is told to
    look at it again."""
    ids = [int(key) for key, _score, _source in hits]
    live = set(
        db.session.execute(
            select(Item.itemid).where(Item.itemid.in_(ids), Item.sold.in_((ON_SALE, -ON_SALE)))
        ).scalars()
    )
    db.session.rollback()  # a read only: end the transaction it opened
    stale = [itemid for itemid in ids if itemid not in live]
    for itemid in stale:
        events.item_changed(itemid)
    if not stale:
        return total, hits
    return max(0, total - len(stale)), [hit for hit in hits if int(hit[0]) in live]
