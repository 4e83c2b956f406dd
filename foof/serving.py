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
"""
import inspect
import logging
import threading

import waitress.server
from waitress.channel import HTTPChannel
from waitress.task import ThreadedTaskDispatcher, WSGITask

from foof import config
from foof.legacy.hot import ANSWER

log = logging.getLogger("foof.serving")


class Channel(HTTPChannel):
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
        return WSGITask(channel, request)

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
        if (getattr(channel, "_reading", None) == threading.get_ident()
                and len(channel.requests) == 1 and not channel.total_outbufs_len):
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
        task = WSGITask(channel, request)
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


def _hooks_present():
    """waitress's two hooks used here: the servers' channel class and the dispatcher shim."""
    return (hasattr(waitress.server.BaseWSGIServer, "channel_class")
            and "_dispatcher" in inspect.signature(waitress.server.create_server).parameters)


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
    options = {"host": host, "port": port, "threads": threads, "ident": "foof"}
    if inline and hot_path is not None and not _hooks_present():
        log.warning("this waitress cannot answer hot reads on its I/O thread; serving the plain way")
        inline = False
    if inline and hot_path is not None:
        dispatcher = Dispatcher(hot_path)
        server = waitress.server.create_server(app, _dispatcher=dispatcher, **options)
        dispatcher.set_thread_count(threads)  # once listening: no threads left on a bind error
        # One listening server, or several (a host name with IPv4 and IPv6 addresses).
        base = waitress.server.BaseWSGIServer
        listeners = [server] if isinstance(server, base) else [
            each for each in server.map.values() if isinstance(each, base)]
        for listener in listeners:
            listener.channel_class = Channel
        server.foof_inline = True
        return server
    server = waitress.server.create_server(app, **options)
    server.foof_inline = False
    return server


def serve(app, host, port, threads):
    """Serve ``app`` with waitress until interrupted (``python wsgi.py``)."""
    server = create_server(app, host, port, threads)
    log.info("serving on http://%s:%s with %s threads%s", host, port, threads,
             "; hot reads answered on the I/O thread" if server.foof_inline else "")
    server.run()
