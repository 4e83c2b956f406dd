"""One transaction per state change, retried when the database says "try again".

SQLite answers "database is locked" at once (no busy wait) when a transaction that has
read tries to write after another writer committed; MySQL/MariaDB report deadlocks (1213)
and lock wait timeouts (1205). In both cases the whole unit of work is safe to run again
from the start, so :func:`atomic` rolls back and retries with a short jittered back-off.
Contested transitions stay correct because they are conditional updates
(``UPDATE … WHERE sold = 1``), whose row count decides who won.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Any, Callable, ParamSpec, TypeVar

from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DataError, OperationalError

from foof.domain.errors import DomainError, StorageRejected
from foof.extensions import db


class Conflict(Exception):
    """Raised by a unit of work that saw a concurrent change: :func:`atomic` runs it again."""


log = logging.getLogger(__name__)

_P = ParamSpec("_P")
_T = TypeVar("_T")

_RETRY_MYSQL_CODES = {1205, 1213}
ATTEMPTS = 40


def _pending() -> list[tuple[Callable[..., object], tuple[Any, ...]]]:
    info = db.session.info
    return info.setdefault("foof_after_commit", [])


def after_commit(callback: Callable[..., object], *args: Any) -> None:
    """Run ``callback(*args)`` after the surrounding :func:`atomic` commits."""
    _pending().append((callback, args))


def _run_pending() -> None:
    callbacks = list(_pending())
    _pending().clear()
    for callback, args in callbacks:
        try:
            callback(*args)
        except Exception:  # a side effect must never undo or fail a committed change
            log.exception("after-commit step %s failed", getattr(callback, "__name__", callback))


def _retryable(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", None)
    args: tuple[Any, ...] = getattr(orig, "args", ())
    if args and isinstance(args[0], int):
        return args[0] in _RETRY_MYSQL_CODES
    text = str(orig or exc).lower()
    return "database is locked" in text or "database table is locked" in text


def _rejected(exc: BaseException) -> bool:
    """MySQL refusing a value: incorrect string (1366), too long (1406), out of range (1264)."""
    orig = getattr(exc, "orig", None)
    args: tuple[Any, ...] = getattr(orig, "args", ())
    return bool(args) and args[0] in {1366, 1406, 1264, 1265, 1292}


def atomic(work: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Run ``work(*args, **kwargs)`` in a fresh transaction and commit it.

    Callbacks registered with :func:`after_commit` during the work run once it committed
    (search indexing, file removal); they are dropped when the work fails.

    Domain errors roll back and propagate; transient lock errors are retried; a value the
    database refuses becomes :class:`StorageRejected` (a handled failure, not a 500).
    """
    for attempt in range(ATTEMPTS):
        db.session.rollback()  # start clean: reads done before must not upgrade to a write
        try:
            _pending().clear()
            result = work(*args, **kwargs)
            db.session.commit()
            _run_pending()
            return result
        except DomainError:
            db.session.rollback()
            raise
        except Conflict:
            db.session.rollback()
            if attempt == ATTEMPTS - 1:
                raise
            time.sleep(0.002 * (attempt + 1) * random.random())
        except (OperationalError, DataError) as exc:
            db.session.rollback()
            if _rejected(exc):
                log.warning("database refused a value: %s", exc.orig)
                raise StorageRejected() from exc
            if not _retryable(exc) or attempt == ATTEMPTS - 1:
                raise
            time.sleep(min(0.2, 0.005 * (attempt + 1)) * (0.5 + random.random()))
        except Exception:
            db.session.rollback()
            raise
    raise RuntimeError("unreachable")


def upsert(model: Any, values: dict[str, Any], keys: list[str], update: list[str]) -> None:
    """Insert ``values`` as a row of ``model``, or on a duplicate of the primary key ``keys``
    set the columns ``update`` from them: one statement in each dialect's words (inside the
    caller's transaction; on MySQL it takes the row's lock, on SQLite the write lock)."""
    stmt: Any
    if db.engine.dialect.name == "mysql":
        stmt = mysql_insert(model).values(**values)
        stmt = stmt.on_duplicate_key_update({column: stmt.inserted[column] for column in update})
    else:
        stmt = sqlite_insert(model).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=keys, set_={column: stmt.excluded[column] for column in update}
        )
    db.session.execute(stmt)
