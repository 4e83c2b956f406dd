"""The access log: one readable line per request, ``client method route-pattern status time``.

The route pattern, never the path (tokens live there); a request no route matches (a 404)
names its path instead, cut to 120 characters. Written by Flask's hooks for the
routes, and by the legacy hot path (foof/legacy/hot.py) for what it answers itself.
"""

import logging
import time

from flask import g, request

LOG = logging.getLogger("foof.access")


def enabled():
    return LOG.isEnabledFor(logging.INFO)


def write(client, method, rule, status, started):
    """One line; ``started`` is the request's ``time.perf_counter()`` at arrival."""
    LOG.info("%s %s %s %s %.1fms", client, method, rule, status, (time.perf_counter() - started) * 1000)


def printable_path(path):
    """An unmatched path for the log line (a 404 names what was asked for): at most 120
    characters, nothing that could split the line or pose as another field."""
    text = "".join(ch if ch.isprintable() and not ch.isspace() else "_" for ch in path[:120])
    return text + ("…" if len(path) > 120 else "")


def init_app(app):
    """Hook the Flask routes in; not at all when the level hides the line (WARNING or above)."""
    if not enabled():
        return

    @app.before_request
    def _start():
        g._started = time.perf_counter()

    @app.after_request
    def _done(response):
        rule = request.url_rule.rule if request.url_rule else "(no route) " + printable_path(request.path)
        write(request.remote_addr, request.method, rule, response.status_code, g.get("_started", time.perf_counter()))
        return response
