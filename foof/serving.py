"""Serving the app with waitress, the hot reads answered on waitress's I/O thread.

waitress reads and parses every request on one I/O thread and hands it to a worker thread
through a queue; the worker runs the app and hands the reply back to the I/O thread. Measured
with ``bench/http.py`` on SQLite, those handoffs — and the GIL passing between nine threads
at every ``sqlite3`` call, each of which releases it — cost far more than the read itself:
~1 ms of wall time per request under load for ~60 µs of work.

So when the database is SQLite (a local file: a read in WAL mode waits neither for the network
nor for a writer — only, rarely, for a recovery after a crash, bounded by the busy timeout),
the requests :class:`foof.legacy.hot.HotPath` answers — the plain forms of
``GET /item/<id>``, ``GET /user/<uuid>`` and a ``fetchnew`` poll that finds nothing waiting —
are answered on the I/O thread as soon as they are parsed, through :meth:`HotPath.answer`
with ``take=False`` (never a write). The reply still goes through waitress's own task, so its
status line, headers and connection handling are the same as for any request. Everything
else, including a hot request the answer declines (an unknown id, a bad token, messages
waiting), goes to the worker threads as before.

MySQL/MariaDB reads are a network round trip, during which a waiting I/O thread would serve
nobody (and a query held up by a lock would hold up every connection). Through mysqlclient
the I/O thread never waits for one (issue #13): the hot request's work runs in deferring
mode (``foof.domain.reads.deferring``), its first read raises ``Deferred``, the statement is
sent on one of :data:`ASYNC_READS` connections of ``reads.AsyncReads`` without waiting, and
the connection is polled with the clients' sockets (:class:`ReplyWatch`, an entry of
waitress's socket map). When the reply has arrived the work runs again with the result
given, and answers, sends its next read (``/fav/query`` has two) or goes to a worker. Reads
beyond the connections wait in :attr:`Dispatcher.queued`; a failed read goes to a worker.
Any statement other than ``reads.first``/``every`` raises while deferring, so nothing on the
I/O thread can wait for the database. Through PyMySQL, which can only wait, the workers
answer everything unless ``FOOF_INLINE_READS=always``.

This uses two hooks of waitress (3.x): the server's ``channel_class`` attribute and the
``_dispatcher`` argument of ``create_server``. If they change, :func:`serve` logs a warning
and serves the plain way; ``tests/test_serving.py`` runs a real server through them.
``FOOF_INLINE_READS``: ``auto`` (the default: SQLite, and MySQL through mysqlclient),
``always`` (MySQL through PyMySQL too, waiting for each round trip: a stalled database then
stalls every connection, not just the requests that read it) or ``off``.

Slow and idle clients (both modes). waitress keeps at most ``connection_limit`` connections
open and stops accepting at the limit, so ~100 clients that open a connection and send
nothing, or a header or body a byte at a time, locked every other client out (its defaults:
100 connections, 120 s of silence before one is closed). Here the limit is
``FOOF_CONNECTION_LIMIT`` (1000) and, at the limit, the server does not stop accepting: it
closes the connection that has waited longest for its request to complete (an idle
keep-alive connection, or one still sending its headers or body) — never one whose request
is being answered — and accepts the next. ``FOOF_CHANNEL_TIMEOUT`` (30 s) closes a connection
silent that long and one whose request headers are not complete after that long however
slowly they trickle in; both checked every 2 s. A body above ``FOOF_MAX_REQUEST_BODY_BYTES``
is refused by waitress before more of it is buffered, and the app answers the refusal as it
answers any body over its limits (:class:`TooLargeTask`). A reverse proxy (nginx) in front
remains the production answer to many slow clients (README).
"""

import collections
import inspect
import io
import logging
import threading
import time

import waitress.server
from waitress.channel import HTTPChannel
from waitress.task import ErrorTask, ThreadedTaskDispatcher, WSGITask
from waitress.utilities import RequestEntityTooLarge

from foof import config
from foof.domain import reads
from foof.legacy import render as legacy_render
from foof.legacy.hot import ANSWER

log = logging.getLogger("foof.serving")


#: How often waitress's maintenance looks for timed-out connections (its default: 30 s).
CLEANUP_INTERVAL = 2


#: Set in the environ of a request whose body waitress refused as too large.
BODY_TOO_LARGE = "foof.body_too_large"


class NodeHeadTask(WSGITask):
    """waitress's task, writing a legacy reply's head as the old Node server did
    (:func:`foof.legacy.render.node_head`: the app's headers in its order, then ``Date`` and
    ``Connection: keep-alive``, no ``Server``). Replies the legacy face did not flag (the REST
    face's) keep waitress's head."""

    def build_response_header(self):
        given = [name for name, _ in self.response_headers]
        head = super().build_response_header()
        if self.environ is not None and self.environ.get(legacy_render.NODE_HEAD):
            head = legacy_render.node_head(head, given, self.close_on_finish)
        return head


class TooLargeTask(NodeHeadTask):
    """A request whose body waitress refused (over ``max_request_body_size``), handed to the
    app without its body and marked, so the app answers it like any body over its limit (the
    legacy face's 413 text, the REST face's state 6001) rather than waitress's own page. The
    rest of the body is never read: the connection is closed after the answer."""

    def get_environment(self):
        if self.environ is None:
            environ = super().get_environment()
            environ["wsgi.input"] = io.BytesIO()
            environ[BODY_TOO_LARGE] = True
        return self.environ


class GuardedChannel(HTTPChannel):
    """A channel that knows since when it has been waiting for its current request, and
    whose body-too-large refusals the app answers (:class:`TooLargeTask`)."""

    task_class = NodeHeadTask

    def error_task_class(self, channel, request):
        # waitress calls ``self.error_task_class(self, request)``.
        if isinstance(request.error, RequestEntityTooLarge):
            request.headers["CONNECTION"] = "close"
            return TooLargeTask(channel, request)
        return ErrorTask(channel, request)

    _request_started = None  # when the first byte of a still incomplete request came

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._idle_since = self.creation_time

    def received(self, data):
        if self.request is None and data:
            self._request_started = time.time()
        return super().received(data)

    def service(self):
        try:
            super().service()
        finally:
            self._idle_since = time.time()

    def waiting_since(self):
        """When this connection began waiting for a complete request; None while a request
        is being answered or a reply sent (such a connection is never evicted)."""
        if self.requests or self.total_outbufs_len or self.will_close or self.close_when_flushed:
            return None
        if self.request is not None and self._request_started is not None:
            return self._request_started
        return self._idle_since

    def headers_overdue(self, cutoff):
        """Still sending the headers of a request begun before ``cutoff``."""
        request = self.request
        return (
            request is not None
            and not request.headers_finished
            and not self.requests
            and self._request_started is not None
            and self._request_started < cutoff
        )


class GuardedServer:
    """Mixed into waitress's listening server class (see :func:`_guard`): at the connection
    limit, evict the connection waiting longest instead of no longer accepting; close
    connections whose headers are overdue."""

    def readable(self):
        now = time.time()
        if now >= self.next_channel_cleanup:
            self.next_channel_cleanup = now + self.adj.cleanup_interval
            self.maintenance(now)
        if not self.accepting:
            return False
        if len(self._map) >= self.adj.connection_limit and not self._make_room():
            if not self.in_connection_overflow:
                self.in_connection_overflow = True
                self.logger.warning(
                    "%d connections open, every one busy: no longer accepting new connections",
                    len(self.active_channels),
                )
            return False
        if self.in_connection_overflow:
            self.in_connection_overflow = False
            self.logger.info("below the connection limit again: accepting")
        return True

    def _make_room(self):
        """Whether a new connection fits once the ones already closing are gone, after
        marking the one waiting longest for its request to close (deferred: the loop
        closes it on its next round, never while it may be selected on)."""
        closing, victim, oldest = 0, None, None
        for channel in list(self.active_channels.values()):
            if channel.will_close:
                closing += 1
                continue
            since = channel.waiting_since() if isinstance(channel, GuardedChannel) else None
            if since is not None and (oldest is None or since < oldest):
                victim, oldest = channel, since
        if len(self._map) - closing < self.adj.connection_limit:
            return True
        if victim is None:
            return False
        victim.will_close = True
        self.evicted += 1
        now = time.time()
        if now - self._evict_logged >= 10:
            self._evict_logged = now
            self.logger.warning(
                "connection limit (%d) reached: closing the connections waiting "
                "longest for a complete request (%d so far)",
                self.adj.connection_limit,
                self.evicted,
            )
        return True

    evicted = 0  # connections closed to make room (tests, diagnostics)
    _evict_logged = 0.0

    def maintenance(self, now):
        super().maintenance(now)  # silent for channel_timeout seconds: closed
        cutoff = now - self.adj.channel_timeout
        for channel in list(self.active_channels.values()):
            if isinstance(channel, GuardedChannel) and channel.headers_overdue(cutoff):
                channel.will_close = True


_guarded_classes = {}


def _guard(listener, channel_class):
    """Make a listening waitress server a :class:`GuardedServer` serving ``channel_class``."""
    base = type(listener)
    if not isinstance(listener, GuardedServer):
        if base not in _guarded_classes:
            _guarded_classes[base] = type("Guarded" + base.__name__, (GuardedServer, base), {})
        listener.__class__ = _guarded_classes[base]
    listener.channel_class = channel_class


def _listeners(server):
    """The listening servers: ``server`` itself, or those of a MultiSocketServer (a host name
    with IPv4 and IPv6 addresses)."""
    base = waitress.server.BaseWSGIServer
    return [server] if isinstance(server, base) else [each for each in server.map.values() if isinstance(each, base)]


def limits(app):
    """waitress's options for the connection and body limits (see the module docstring)."""
    cfg = app.config
    options = {
        "connection_limit": int(cfg["FOOF_CONNECTION_LIMIT"]),
        "channel_timeout": int(cfg["FOOF_CHANNEL_TIMEOUT"]),
        "cleanup_interval": CLEANUP_INTERVAL,
        # waitress refuses a body of this size or more: +1 lets one of exactly the limit in.
        # Never below the photo-upload limit, or raising only that would still be cut off here.
        "max_request_body_size": max(
            int(cfg["FOOF_MAX_REQUEST_BODY_BYTES"]), int(cfg.get("FOOF_MAX_PHOTO_UPLOAD_BYTES") or 0)
        )
        + 1,
        # select() cannot watch a descriptor numbered 1024 or above; poll() can.
        "asyncore_use_poll": True,
    }
    for key, name in (
        ("connection_limit", "FOOF_CONNECTION_LIMIT"),
        ("channel_timeout", "FOOF_CHANNEL_TIMEOUT"),
        ("max_request_body_size", "FOOF_MAX_REQUEST_BODY_BYTES"),
    ):
        if options[key] < 1:
            raise ValueError(f"{name} must be at least 1, not {options[key]}")
    return options


def _raise_file_limit(connections):
    """Let the process open a descriptor for every connection allowed, and some to spare
    (the soft RLIMIT_NOFILE is often 1024), up to the hard limit."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        except (ValueError, OSError) as exc:
            log.warning("could not raise the open-file limit to %d: %s", new, exc)
            return
        if new < wanted:
            log.warning("open-file limit %d is below FOOF_CONNECTION_LIMIT + 256", new)


class Channel(GuardedChannel):
    # Only ever touched by the I/O thread, except _prepared (see task_class).
    _reading = None  # the I/O thread's ident while it reads this channel
    _answer_now = False
    _prepared = None

    def task_class(self, channel, request):
        # waitress calls ``self.task_class(self, request)``: hand over the task whose
        # environ was built (and maybe answered) on the I/O thread, else a fresh one.
        task, self._prepared = self._prepared, None
        if task is not None and task.request is request:
            return task
        return NodeHeadTask(channel, request)

    def handle_read(self):
        self._reading = threading.get_ident()
        try:
            super().handle_read()
        finally:
            self._reading = None
        # A request answered by the dispatcher: send it now, in this thread. service()
        # hands the next pipelined request (if any) to a worker itself, in order.
        if self._answer_now:
            self._answer_now = False
            self.service()


class Dispatcher(ThreadedTaskDispatcher):
    def __init__(self, hot_path, async_reads=None):
        super().__init__()
        self.hot_path = hot_path
        self.async_reads = async_reads  # reads.AsyncReads: MySQL reads sent without waiting
        self.answered = 0  # requests answered on the I/O thread (tests, diagnostics)
        self.sent = 0  # reads sent without waiting (tests, diagnostics)
        self.queued = collections.deque()  # (Attempt, Deferred) waiting for a free connection

    def add_task(self, channel):
        if (
            getattr(channel, "_reading", None) == threading.get_ident()
            and len(channel.requests) == 1
            and not channel.total_outbufs_len
        ):
            try:
                outcome = self._answer(channel)
            except Exception:  # noqa: BLE001 - a worker serves it the usual way
                log.exception("answering on the I/O thread failed; a worker serves the request")
                outcome = None
            if outcome is ANSWERED:
                channel._answer_now = True
                return
            if outcome is SENT:
                return  # answered when the database's reply arrives (ReplyWatch)
        super().add_task(channel)

    def to_worker(self, channel):
        """Hand a request the I/O thread took up to the worker threads after all."""
        super().add_task(channel)

    def _send(self, attempt, deferred):
        pending = self.async_reads.send(deferred)
        if pending is None:
            return None  # the database refused: a worker reads the usual way
        ReplyWatch(self, attempt, pending)
        self.sent += 1
        return SENT

    def send_queued(self):
        """Send the reads that waited for a free connection, oldest first."""
        while self.queued and not self.async_reads.full():
            attempt, deferred = self.queued.popleft()
            if attempt.still_wanted() and self._send(attempt, deferred) is None:
                self.to_worker(attempt.channel)

    def _answer(self, channel):
        request = channel.requests[0]
        if request.error or request.command not in ("GET", "POST") or request.query:
            return None
        task = NodeHeadTask(channel, request)
        environ = task.get_environment()
        # The task and its environ serve the request either way: answer() may read the
        # body (and puts it back in the environ for the app).
        channel._prepared = task
        return self.attempt(Attempt(channel, request, environ))

    def attempt(self, attempt):
        """ANSWERED (the answer is in the environ), SENT (a read is on its way: try again
        when it arrives) or None (a worker serves the request)."""
        if self.async_reads is None:
            answer = self.hot_path.answer(attempt.environ, take=False)
        else:
            try:
                answer = self.hot_path.answer(attempt.environ, take=False, results=attempt.results)
            except reads.Deferred as deferred:
                # Kept until the reply arrives: without its traceback, whose frames (the
                # answer's locals, this attempt) would make a reference cycle per request,
                # left for the cyclic collector — tens of MB and its pauses at the p99.
                deferred.__traceback__ = None
                deferred.__context__ = None
                if self.async_reads.full():
                    self.queued.append((attempt, deferred))  # sent when a connection is free
                    return SENT
                return self._send(attempt, deferred)
        if answer is None:
            return None
        attempt.environ[ANSWER] = answer
        self.answered += 1
        return ANSWERED


ANSWERED, SENT = "answered", "sent"


class Attempt:
    """A hot request the I/O thread is answering, and the reads it has been given."""

    __slots__ = ("channel", "request", "environ", "results")

    def __init__(self, channel, request, environ):
        self.channel, self.request, self.environ = channel, request, environ
        self.results = {}

    def still_wanted(self):
        channel = self.channel
        return channel.connected and bool(channel.requests) and channel.requests[0] is self.request


class ReplyWatch:
    """An entry of waitress's socket map for one read sent without waiting: the loop polls
    the database connection with the clients' sockets, and when the reply has arrived the
    request is answered (or its next read sent, or it goes to a worker) on the I/O thread.
    Registered only while the read is in flight."""

    accepting = False

    def __init__(self, dispatcher, attempt, pending):
        self.dispatcher, self.attempt, self.pending = dispatcher, attempt, pending
        self.map = attempt.channel._map  # the server's socket map, which the I/O loop polls
        self._fileno = pending.fileno()
        self.done = False
        self.map[self._fileno] = self

    def readable(self):
        return not self.done

    def writable(self):
        return False

    def _finish(self):
        self.done = True
        if self.map.get(self._fileno) is self:
            del self.map[self._fileno]

    def handle_read_event(self):
        if self.done:
            return
        self._finish()
        dispatcher = self.dispatcher
        records = dispatcher.async_reads.receive(self.pending)
        try:
            self._use(records)
        finally:
            dispatcher.send_queued()  # a connection is free again

    def _use(self, records):
        dispatcher, attempt = self.dispatcher, self.attempt
        if not attempt.still_wanted():
            return  # the client went away meanwhile
        outcome = None
        if records is not None:
            attempt.results[self.pending.deferred.key] = records
            try:
                outcome = dispatcher.attempt(attempt)
            except Exception:  # noqa: BLE001 - a worker serves it the usual way
                log.exception("answering on the I/O thread failed; a worker serves the request")
        if outcome is ANSWERED:
            attempt.channel.service()
        elif outcome is None:
            dispatcher.to_worker(attempt.channel)

    def _give_up(self):
        if self.done:
            return
        self._finish()
        self.dispatcher.async_reads.abandon(self.pending)
        if self.attempt.still_wanted():
            self.dispatcher.to_worker(self.attempt.channel)
        self.dispatcher.send_queued()

    def handle_close(self):
        self._give_up()

    def handle_error(self):
        log.exception("reading a reply on the I/O thread failed; a worker serves the request")
        self._give_up()

    def handle_write_event(self):
        pass

    def handle_expt_event(self):
        self._give_up()

    def close(self):  # the server closing its map
        self._give_up()


def _guard_present():
    """What :class:`GuardedServer` and :class:`GuardedChannel` rely on in waitress (3.x)."""
    base = waitress.server.BaseWSGIServer
    return all(
        hasattr(base, name)
        for name in ("channel_class", "next_channel_cleanup", "in_connection_overflow", "maintenance")
    )


def _hooks_present():
    """waitress's two hooks used here: the servers' channel class and the dispatcher shim."""
    return (
        hasattr(waitress.server.BaseWSGIServer, "channel_class")
        and "_dispatcher" in inspect.signature(waitress.server.create_server).parameters
    )


INLINE_CHOICES = ("auto", "always", "off")


def inline_choice(value):
    """``FOOF_INLINE_READS`` normalised to one of :data:`INLINE_CHOICES` (true/false
    spellings mean "always"/"off"); ValueError names the choices."""
    text = str(value).strip().lower()
    if text in config.TRUE_WORDS:
        text = "always"
    elif text in config.FALSE_WORDS:
        text = "off"
    if text not in INLINE_CHOICES:
        raise ValueError(f"FOOF_INLINE_READS must be one of {', '.join(INLINE_CHOICES)}, not {value!r}")
    return text


def inline_mode(app, choice=None):
    """How hot reads are answered on the I/O thread: "sync" (SQLite, and MySQL through a
    driver that can only wait, when ``FOOF_INLINE_READS=always``), "async" (MySQL through
    mysqlclient: reads sent without waiting) or None (the workers answer everything)."""
    from foof.extensions import db

    if choice is None:
        choice = app.config.get("FOOF_INLINE_READS", "auto")
    choice = inline_choice(choice)
    if choice == "off":
        return None
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        return "sync"
    if reads.AsyncReads.supported(engine):
        return "async"
    return "sync" if choice == "always" else None


def inline_wanted(app):
    """Whether hot reads are answered on the I/O thread (see the module docstring)."""
    return inline_mode(app) is not None


#: Reads in flight at once from the I/O thread (each on a connection of its own); more hot
#: requests meanwhile go to the workers.
ASYNC_READS = 8


def create_server(app, host, port, threads, inline=None):
    """A waitress server for ``app``, listening but not yet serving (``server.run()``);
    ``server.foof_inline`` says whether hot reads are answered on the I/O thread and
    ``server.foof_inline_mode`` how ("sync", "async" or None). ``inline``: None (the
    configuration decides), False, True (as ``FOOF_INLINE_READS=always``)."""
    if inline is None:
        mode = inline_mode(app)
    else:
        mode = inline_mode(app, "always") if inline else None
    hot_path = app.extensions.get("foof.hot_path")
    options = {"host": host, "port": port, "threads": threads, "ident": "foof", **limits(app)}
    if mode and hot_path is not None and not _hooks_present():
        log.warning("this waitress cannot answer hot reads on its I/O thread; serving the plain way")
        mode = None
    _raise_file_limit(options["connection_limit"])
    if mode and hot_path is not None:
        async_reads = None
        if mode == "async":
            from foof.extensions import db

            with app.app_context():
                async_reads = reads.AsyncReads(db.engine, ASYNC_READS)
        dispatcher = Dispatcher(hot_path, async_reads)
        server = waitress.server.create_server(app, _dispatcher=dispatcher, **options)
        dispatcher.set_thread_count(threads)  # once listening: no threads left on a bind error
        for listener in _listeners(server):
            _guard(listener, Channel)
        server.foof_inline, server.foof_inline_mode = True, mode
        return server
    server = waitress.server.create_server(app, **options)
    if _guard_present():
        for listener in _listeners(server):
            _guard(listener, GuardedChannel)
    else:
        log.warning("this waitress lacks what the connection guard uses: at the connection limit new clients wait")
    server.foof_inline, server.foof_inline_mode = False, None
    return server


def _driver_note(app):
    """A log line naming the MySQL driver, with advice when it is the slow one."""
    from foof.extensions import db, mysqlclient_installed

    with app.app_context():
        dialect = db.engine.dialect
    if dialect.name not in ("mysql", "mariadb") or dialect.driver != "pymysql":
        return
    if mysqlclient_installed():
        log.info(
            "FOOF_DATABASE_URL names PyMySQL; mysql:// (or mysql+mysqldb://) would use the installed "
            "mysqlclient, about a third of the client CPU per read and reads sent without waiting"
        )
    else:
        log.warning(
            "MySQL through PyMySQL: pip install -e '.[mysql]' (mysqlclient) for about a third of the "
            "client CPU per read and hot reads answered on the I/O thread"
        )


def serve(app, host, port, threads):
    """Serve ``app`` with waitress until interrupted (``python wsgi.py``)."""
    server = create_server(app, host, port, threads)
    app.extensions["foof.waitress"] = server  # read by the metrics (queue depth, connections)
    _driver_note(app)
    adj = server.adj
    how = {
        "sync": "; hot reads answered on the I/O thread",
        "async": "; hot reads answered on the I/O thread, sent without waiting",
    }
    log.info(
        "serving on http://%s:%s with %s threads%s; at most %d connections, %d s timeout, bodies up to %d bytes",
        host,
        port,
        threads,
        how.get(server.foof_inline_mode, ""),
        adj.connection_limit,
        adj.channel_timeout,
        adj.max_request_body_size - 1,
    )
    server.run()
