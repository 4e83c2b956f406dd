"""Search: an embedded Whoosh index behind a small interface, answered in the ES 6 shape.

``SearchBackend`` is what the rest of the service sees; :class:`WhooshBackend` is the
embedded implementation. A deployment that outgrows one machine could add an
Elasticsearch/OpenSearch backend with the same four methods (see the README).
"""

from __future__ import annotations

from flask import Flask

from foof.domain import events
from foof.search.backend import SearchBackend  # noqa: F401


def init_app(app: Flask) -> None:
    from foof.search.whoosh_backend import WhooshBackend

    backend = WhooshBackend(app)
    app.extensions["foof.search"] = backend
    events.subscribe(app, lambda kind, key: backend.enqueue(kind, key))
