"""The search interface and the Elasticsearch-6-shaped result the legacy clients read."""
import abc

SHARDS = {"total": 5, "successful": 5, "skipped": 0, "failed": 0}
INDEXES = {"good": ("index-goods", "goods"), "user": ("index-users", "users")}


class SearchBackend(abc.ABC):
    @abc.abstractmethod
    def enqueue(self, kind, key):
        """Note that row ``key`` of ``kind`` (``"goods"`` / ``"users"``) changed (after commit)."""

    @abc.abstractmethod
    def search(self, method, words, offset, size):
        """``(total, [(id, score, source dict)])`` for ``words`` (already analysed)."""

    @abc.abstractmethod
    def rebuild(self, progress=None):
        """Rebuild every index from the database; returns ``{"goods": n, "users": m}``."""

    @abc.abstractmethod
    def flush(self, timeout=None):
        """Wait until every enqueued change is in the index (tests, shutdown)."""


def es_response(method, took_ms, total, hits):
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
