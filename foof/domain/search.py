"""Search requests: validate, analyse the query, ask the search backend, time it."""
import time

from flask import current_app

from foof.domain.errors import Invalid
from foof.domain.listings import parse_int
from foof.search.analyzer import query_words
from foof.search.backend import es_response

METHODS = ("good", "user")
MAX_SIZE = 100
MAX_WINDOW = 10_000  # Elasticsearch's max_result_window
MAX_QUERY = 200


def find(method, query, offset=None, size=None):
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
    took = (time.perf_counter() - started) * 1000
    return es_response(method, took, total, hits)
