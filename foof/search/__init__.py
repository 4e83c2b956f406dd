"""Search: an embedded Whoosh index behind a small interface, answered in the ES 6 shape.

``SearchBackend`` is what the rest of the service sees; :class:`WhooshBackend` is the
embedded implementation. A deployment that outgrows one machine could add an
Elasticsearch/OpenSearch backend with the same four methods (see the README).

Memory: the backend is made on its first use (a search, an index update, a rebuild), not
when the app is created: Whoosh's modules cost 3.5 MB of resident memory, and a server
that has not searched or indexed yet needs none of them (docs/passwords-and-memory.md).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from flask import Flask

from foof.domain import events
from foof.search.backend import Hit, SearchBackend


class LazyBackend(SearchBackend):
    """The app's search backend, made by ``make`` on the first call that needs it; every
    other attribute is the real backend's."""

    def __init__(self, make: Callable[[], SearchBackend]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._backend: SearchBackend | None = None

    @property
    def made(self) -> bool:
        return self._backend is not None

    def backend(self) -> SearchBackend:
        if self._backend is None:
            with self._lock:
                if self._backend is None:
                    self._backend = self._make()
        return self._backend

    def enqueue(self, kind: str, key: int) -> None:
        self.backend().enqueue(kind, key)

    def search(self, method: str, words: Sequence[str], offset: int, size: int) -> tuple[int, list[Hit]]:
        return self.backend().search(method, words, offset, size)

    def rebuild(self, *args: Any, **kwargs: Any) -> dict[str, int]:
        return self.backend().rebuild(*args, **kwargs)

    def flush(self, timeout: float | None = None) -> bool:
        return True if self._backend is None else self._backend.flush(timeout)  # nothing was ever queued

    def close(self, *args: Any, **kwargs: Any) -> None:
        if self._backend is not None:
            self._backend.close(*args, **kwargs)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.backend(), name)


def init_app(app: Flask) -> None:
    def make() -> SearchBackend:
        from foof.search.whoosh_backend import WhooshBackend

        return WhooshBackend(app)

    backend = LazyBackend(make)
    app.extensions["foof.search"] = backend
    events.subscribe(app, lambda kind, key: backend.enqueue(kind, key))
