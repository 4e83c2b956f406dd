"""Serving the app with waitress, the hot reads answered on waitress's I/O thread (SQLite).

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
waiting), goes to the worker threads as before. MySQL/MariaDB reads are a network round trip,
during which the I/O thread would serve nobody, so there the workers answer everything.

This uses two hooks of waitress (3.x): the server's ``channel_class`` attribute and the
``_dispatcher`` argument of ``create_server``. If they change, :func:`serve` logs a warning
and serves the plain way; ``tests/test_serving.py`` runs a real server through them.
``FOOF_INLINE_READS``: ``auto`` (the default: SQLite only), ``always`` (MySQL too: measured
+30–50 % on the three reads there, but a stalled database then stalls every connection, not
just the requests that read it) or ``off``.

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
    def __init__(self, hot_path):
        super().__init__()
        self.hot_path = hot_path
        self.answered = 0  # requests answered on the I/O thread (tests, diagnostics)

    def add_task(self, channel):
        if (
            getattr(channel, "_reading", None) == threading.get_ident()
            and len(channel.requests) == 1
            and not channel.total_outbufs_len
        ):
            try:
                if self._answer(channel):
                    return
            except Exception:  # noqa: BLE001 - a worker serves it the usual way
                log.exception("answering on the I/O thread failed; a worker serves the request")
        super().add_task(channel)

    def _answer(self, channel):
        request = channel.requests[0]
        if request.error or request.command not in ("GET", "POST") or request.query:
            return False
        task = NodeHeadTask(channel, request)
        environ = task.get_environment()
        # The task and its environ serve the request either way: answer() may read the
        # body (and puts it back in the environ for the app).
        channel._prepared = task
        answer = self.hot_path.answer(environ, take=False)
        if answer is None:
            return False
        environ[ANSWER] = answer
        channel._answer_now = True
        self.answered += 1
        return True


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


def inline_wanted(app):
    """Whether hot reads are answered on the I/O thread (see the module docstring)."""
    from foof.extensions import db

    choice = inline_choice(app.config.get("FOOF_INLINE_READS", "auto"))
    if choice != "auto":
        return choice == "always"
    with app.app_context():
        return db.engine.dialect.name == "sqlite"


def create_server(app, host, port, threads, inline=None):
    """A waitress server for ``app``, listening but not yet serving (``server.run()``);
    ``server.foof_inline`` says whether hot reads are answered on the I/O thread."""
    if inline is None:
        inline = inline_wanted(app)
    hot_path = app.extensions.get("foof.hot_path")
    options = {"host": host, "port": port, "threads": threads, "ident": "foof", **limits(app)}
    if inline and hot_path is not None and not _hooks_present():
        log.warning("this waitress cannot answer hot reads on its I/O thread; serving the plain way")
        inline = False
    _raise_file_limit(options["connection_limit"])
    if inline and hot_path is not None:
        dispatcher = Dispatcher(hot_path)
        server = waitress.server.create_server(app, _dispatcher=dispatcher, **options)
        dispatcher.set_thread_count(threads)  # once listening: no threads left on a bind error
        for listener in _listeners(server):
            _guard(listener, Channel)
        server.foof_inline = True
        return server
    server = waitress.server.create_server(app, **options)
    if _guard_present():
        for listener in _listeners(server):
            _guard(listener, GuardedChannel)
    else:
        log.warning("this waitress lacks what the connection guard uses: at the connection limit new clients wait")
    server.foof_inline = False
    return server


def serve(app, host, port, threads):
    """Serve ``app`` with waitress until interrupted (``python wsgi.py``)."""
    server = create_server(app, host, port, threads)
    app.extensions["foof.waitress"] = server  # read by the metrics (queue depth, connections)
    adj = server.adj
    log.info(
        "serving on http://%s:%s with %s threads%s; at most %d connections, %d s timeout, bodies up to %d bytes",
        host,
        port,
        threads,
        "; hot reads answered on the I/O thread" if server.foof_inline else "",
        adj.connection_limit,
        adj.channel_timeout,
        adj.max_request_body_size - 1,
    )
    server.run()
