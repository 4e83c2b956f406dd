"""Hot single-row reads on a per-thread connection, outside the pool and the ORM session.

Every token route reads the caller's row, and GET /item, GET /user and the fetchnew poll are
one indexed lookup each. Through a pooled SQLAlchemy ``Connection`` such a lookup cost
~50 µs of Python plus the pool's lock, and under waitress's 8 threads every extra call that
releases the GIL is a thread switch. Here each thread keeps one DB-API connection of its own
(taken from the engine, so the same connect-time settings apply, then detached from the
pool) in autocommit mode, so every statement sees the latest committed data and no snapshot
or lock is held between requests. Statements are compiled once per dialect; rows come back
with SQLAlchemy's own result processing for each column type.

Only for reads by bound parameters of one row (:func:`first`) or of a short list bounded by
a key or a ``LIMIT`` (:func:`every`: a user's favourites, a page of products). A connection that fails is dropped and the
read is tried once more on a fresh one (a restarted MariaDB); connections older than an hour
are replaced (MySQL's ``wait_timeout``); ``engine.dispose()`` closes them all.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, Select, event
from sqlalchemy.engine import Dialect

from foof.extensions import db

RECYCLE_SECONDS = 3600


class Record:
    """A read-only row: attributes by column key, and ``_mapping`` like a Core row."""

    __slots__ = ("_mapping",)

    def __init__(self, mapping: dict[str, Any]) -> None:
        self._mapping = mapping

    def __getattr__(self, name: str) -> Any:
        try:
            return self._mapping[name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        return f"Record({self._mapping!r})"


class _Prepared:
    """A statement compiled for one dialect, with its column keys and result processors."""

    def __init__(self, statement: Select[Any], dialect: Dialect) -> None:
        self.compiled: Any = statement.compile(dialect=dialect)
        self.sql = self.compiled.string
        self.keys: list[Any] = [column.key for column in statement.selected_columns]
        self.types = [column.type for column in statement.selected_columns]
        self.processors: list[Any] | None = None  # from the first cursor description (DB-API type codes)

    def arguments(self, params: dict[str, Any]) -> Any:
        values = self.compiled.construct_params(params)
        if self.compiled.positional:
            return [values[name] for name in self.compiled.positiontup]
        return values

    def record(self, row: Sequence[Any], description: Sequence[Any], dialect: Dialect) -> Record:
        if self.processors is None:
            self.processors = [
                kind.dialect_impl(dialect).result_processor(dialect, described[1])
                for kind, described in zip(self.types, description)
            ]
        return Record(
            {
                key: process(value) if process is not None else value
                for key, process, value in zip(self.keys, self.processors, row)
            }
        )


class _Reader:
    """The per-thread connections and prepared statements of one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = weakref.ref(engine)  # the registry below is keyed weakly by the engine
        self.dialect = engine.dialect
        self.local = threading.local()
        self.prepared: dict[Select[Any], _Prepared] = {}
        self.opened: list[Any] = []  # every connection, so dispose() can close them
        self.lock = threading.Lock()
        event.listen(engine, "engine_disposed", lambda _engine: self.close_all())

    def _connection(self) -> tuple[Any, bool]:
        held = getattr(self.local, "held", None)
        if held is not None and time.monotonic() - held[1] < RECYCLE_SECONDS:
            return held[0], False
        if held is not None:
            self._drop(held[0])
        fairy = self.engine().raw_connection()  # type: ignore[union-attr]  # runs the engine's connect hooks (PRAGMAs)
        fairy.detach()
        connection: Any = fairy.dbapi_connection
        self.dialect.set_isolation_level(connection, "AUTOCOMMIT")
        self.local.held = (connection, time.monotonic())
        with self.lock:
            self.opened.append(connection)
        return connection, True

    def _drop(self, connection: Any) -> None:
        self.local.held = None
        with self.lock:
            if connection in self.opened:
                self.opened.remove(connection)
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - already broken
            pass

    def close_all(self) -> None:
        with self.lock:
            opened, self.opened = self.opened, []
        for connection in opened:
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - closing on dispose, possibly from another thread
                pass

    def run(self, statement: Select[Any], params: dict[str, Any], many: bool) -> list[Record]:
        """The rows of ``statement`` (only the first unless ``many``) as records."""
        prepared = self.prepared.get(statement)
        if prepared is None:
            prepared = self.prepared[statement] = _Prepared(statement, self.dialect)
        arguments = prepared.arguments(params)
        while True:
            connection, fresh = self._connection()
            try:
                cursor = connection.cursor()
                try:
                    cursor.execute(prepared.sql, arguments)
                    if many:
                        rows = cursor.fetchall()
                    else:
                        row = cursor.fetchone()
                        rows = () if row is None else (row,)
                    description = cursor.description
                finally:
                    cursor.close()
            except self.dialect.loaded_dbapi.Error:
                self._drop(connection)
                if fresh:
                    raise
                continue  # a connection that went stale: once more on a new one
            return [prepared.record(row, description, self.dialect) for row in rows]


_READERS: weakref.WeakKeyDictionary[Engine, _Reader] = weakref.WeakKeyDictionary()
_READERS_LOCK = threading.Lock()


def _reader() -> _Reader:
    engine = db.engine
    reader = _READERS.get(engine)
    if reader is None:
        with _READERS_LOCK:
            reader = _READERS.get(engine)
            if reader is None:
                reader = _READERS[engine] = _Reader(engine)
    return reader


def first(statement: Select[Any], params: dict[str, Any]) -> Record | None:
    """The first row of ``statement`` (built once, with bind parameters) as a :class:`Record`,
    or None."""
    found = _given(statement, params, False)
    if found is None:
        found = _reader().run(statement, params, many=False)
    return found[0] if found else None


def every(statement: Select[Any], params: dict[str, Any]) -> list[Record]:
    """Every row of ``statement`` (built once, with bind parameters; bounded by its own
    ``LIMIT`` or its key) as :class:`Record` objects, in the statement's order."""
    found = _given(statement, params, True)
    return _reader().run(statement, params, many=True) if found is None else found


# -- reads answered without waiting (waitress's I/O thread, foof/serving.py) -------------------
#
# The I/O thread must never wait for the database: a slow query would hold up every
# connection. So there a hot request's work runs in *deferring* mode: the first read it
# makes that has no result yet raises :class:`Deferred` instead of touching the database;
# the server sends that statement on a connection of :class:`AsyncReads` without waiting,
# serves other connections, and when the reply has arrived runs the work again with the
# result given (the work before its reads is pure: parsing and token checks). A request
# with two reads (``/fav/query``: the token's user, then the list) takes two rounds.

ReadKey = tuple[int, tuple[tuple[str, Any], ...], bool]


def read_key(statement: Select[Any], params: dict[str, Any], many: bool) -> ReadKey:
    return id(statement), tuple(sorted(params.items())), many


class Deferred(Exception):
    """A read made while :func:`deferring` whose result is not given yet."""

    def __init__(self, statement: Select[Any], params: dict[str, Any], many: bool) -> None:
        super().__init__("read deferred")
        self.statement, self.params, self.many = statement, params, many
        self.key = read_key(statement, params, many)


_deferral = threading.local()


class WouldWait(RuntimeError):
    """A statement run through SQLAlchemy while :func:`deferring` (it would wait)."""


def _refuse_while_deferring(*_args: object, **_kwargs: object) -> None:
    if getattr(_deferral, "results", None) is not None:
        raise WouldWait("a statement outside reads.first/every while deferring")


class deferring:
    """Within: :func:`first` and :func:`every` answer from ``results`` (a fresh copy of each
    record: the work may change what it reads) or raise :class:`Deferred`; any other
    statement on an engine :class:`AsyncReads` serves raises :class:`WouldWait` (the work
    then fails, and a worker does it the usual way)."""

    def __init__(self, results: dict[ReadKey, list[Record]]) -> None:
        self.results = results

    def __enter__(self) -> None:
        _deferral.results = self.results

    def __exit__(self, *_exc: object) -> None:
        _deferral.results = None


def _given(statement: Select[Any], params: dict[str, Any], many: bool) -> list[Record] | None:
    results = getattr(_deferral, "results", None)
    if results is None:
        return None
    key = read_key(statement, params, many)
    if key not in results:
        raise Deferred(statement, params, many)
    return [Record(dict(record._mapping)) for record in results[key]]


class Pending:
    """A statement sent on one of :class:`AsyncReads`' connections, its reply not read yet."""

    def __init__(self, connection: Any, prepared: _Prepared, deferred: Deferred) -> None:
        self.connection, self.prepared, self.deferred = connection, prepared, deferred

    def fileno(self) -> int:
        return int(self.connection.fileno())


class AsyncReads:
    """Connections on which a read is sent without waiting for its reply (mysqlclient's
    ``send_query`` / ``read_query_result``), for the one thread that owns them (waitress's
    I/O thread). The owner polls :meth:`Pending.fileno` and calls :meth:`receive` once it is
    readable: the server has run the statement and its reply (a row or a page of rows, a few
    KB) has begun to arrive, so reading it waits at most for the rest of that reply on the
    wire, never for the query. At most ``size`` reads are in flight (:meth:`full`: the caller
    queues the next ones). A connection that fails is
    closed; the caller then hands the request to a worker, which reads the usual way."""

    def __init__(self, engine: Engine, size: int) -> None:
        self.engine, self.size = engine, size
        self.dialect = engine.dialect
        self.idle: list[tuple[Any, float]] = []
        self.busy = 0
        self.prepared: dict[int, _Prepared] = {}
        self.opened: list[Any] = []
        event.listen(engine, "engine_disposed", lambda _engine: self.close_all())
        if not event.contains(engine, "before_cursor_execute", _refuse_while_deferring):
            event.listen(engine, "before_cursor_execute", _refuse_while_deferring)

    @staticmethod
    def supported(engine: Engine) -> bool:
        """Whether the engine's driver can send a statement without waiting (mysqlclient)."""
        return engine.dialect.name in ("mysql", "mariadb") and engine.dialect.driver == "mysqldb"

    def _take(self) -> Any:
        while self.idle:
            kept, since = self.idle.pop()
            if time.monotonic() - since < RECYCLE_SECONDS:
                return kept
            self._close(kept)
        fairy = self.engine.raw_connection()
        fairy.detach()
        connection: Any = fairy.dbapi_connection
        self.dialect.set_isolation_level(connection, "AUTOCOMMIT")
        self.opened.append(connection)
        return connection

    def _close(self, connection: Any) -> None:
        if connection in self.opened:
            self.opened.remove(connection)
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - already broken
            pass

    def close_all(self) -> None:
        opened, self.opened, self.idle = self.opened, [], []
        for connection in opened:
            try:
                connection.close()
            except Exception:  # noqa: BLE001 - closing on dispose
                pass

    def full(self) -> bool:
        """Whether ``size`` reads are in flight (the caller waits for one to end)."""
        return self.busy >= self.size

    def send(self, deferred: Deferred) -> Pending | None:
        """Send the deferred read; None when ``size`` reads are in flight or it failed."""
        if self.full():
            return None
        prepared = self.prepared.get(id(deferred.statement))
        if prepared is None:
            prepared = self.prepared[id(deferred.statement)] = _Prepared(deferred.statement, self.dialect)
        try:
            connection = self._take()
        except self.dialect.loaded_dbapi.Error:
            return None
        try:
            # As mysqlclient's cursor does it: each argument escaped by the connection, then
            # put in the "format" placeholders of the compiled statement.
            literals = tuple(connection.literal(value) for value in prepared.arguments(deferred.params))
            connection.send_query(prepared.sql.encode(connection.encoding) % literals)
        except self.dialect.loaded_dbapi.Error:
            self._close(connection)
            return None
        self.busy += 1
        return Pending(connection, prepared, deferred)

    def receive(self, pending: Pending) -> list[Record] | None:
        """The records of a sent read whose connection is readable; None if it failed."""
        self.busy -= 1
        connection = pending.connection
        try:
            connection.read_query_result()
            result = connection.store_result()
            rows = result.fetch_row(0 if pending.deferred.many else 1)
            description = result.describe()
        except self.dialect.loaded_dbapi.Error:
            self._close(connection)
            return None
        self.idle.append((connection, time.monotonic()))
        return [pending.prepared.record(row, description, self.dialect) for row in rows]

    def abandon(self, pending: Pending) -> None:
        """Give up a sent read (its reply is never read): the connection is closed."""
        self.busy -= 1
        self._close(pending.connection)
