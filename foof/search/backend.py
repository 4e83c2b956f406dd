"""The search interface and the Elasticsearch-6-shaped result the legacy clients read."""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from typing import Any

SHARDS = {"total": 5, "successful": 5, "skipped": 0, "failed": 0}
INDEXES = {"good": ("index-goods", "goods"), "user": ("index-users", "users")}
#: One search hit: ``(id, score, source dict)``.
Hit = tuple[str, float, dict[str, Any]]


class SearchBackend(abc.ABC):
    @abc.abstractmethod
    def enqueue(self, kind: str, key: int) -> None:
        """Note that row ``key`` of ``kind`` (``"goods"`` / ``"users"``) changed (after commit)."""

    @abc.abstractmethod
    def search(self, method: str, words: Sequence[str], offset: int, size: int) -> tuple[int, list[Hit]]:
        """``(total, [(id, score, source dict)])`` for ``words`` (already analysed)."""

    @abc.abstractmethod
    def rebuild(self, progress: Callable[[str, int], object] | None = None) -> dict[str, int]:
        """Rebuild every index from the database; returns ``{"goods": n, "users": m}``."""

    @abc.abstractmethod
    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every enqueued change is in the index (tests, shutdown)."""


def es_response(method: str, took_ms: float, total: int, hits: Sequence[Hit]) -> dict[str, Any]:
    """The ES 6 response body for ``hits`` = ``[(id, score, source)]``."""
    index, doc_type = INDEXES[method]
    return {
        "took": int(took_ms),
        "timed_out": False,
        "_shards": dict(SHARDS),
        "hits": {
            "total": total,
            "max_score": max((score for _, score, _ in hits), default=None),
            "hits": [
                {"_index": index, "_type": doc_type, "_id": str(key), "_score": score, "_source": source}
                for key, score, source in hits
            ],
        },
    }
