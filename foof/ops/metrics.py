"""``GET /metrics``: Prometheus text format (the ``prometheus_client`` library).

What is counted:

- ``foof_http_requests_total{method,route,status}`` and
  ``foof_http_request_duration_seconds{method,route}``: every request Flask routes, by route
  *pattern* (``/item/<itemid>``, never the path; unknown paths are ``(no route)``). The three
  hot reads answered by :mod:`foof.legacy.hot` without Flask (``GET /item/<id>``,
  ``GET /user/<uuid>``, an empty ``fetchnew``) are not counted per route: they are the
  benchmarked path and stay untouched; ``foof_hot_reads_io_thread_total`` counts the ones
  answered on waitress's I/O thread.
- ``foof_waitress_queue_depth`` (requests waiting for a worker), ``foof_waitress_connections``
  (open client connections), read at scrape time from the server ``foof.serving.serve``
  stores; absent when the app is not served by ``python wsgi.py``.
- ``foof_db_pool_checked_out`` / ``foof_db_pool_size``: the SQLAlchemy pool.
- ``foof_search_index_lag``: changes committed but not yet in the search index.
- ``foof_sends_total{channel,outcome}``: SMS codes and verification mails, ``sent`` or
  ``failed`` (counted by :func:`foof.domain.seclog.count`).

Who may read it: a client on the loopback address that did not come through a proxy (no
``X-Forwarded-For``/``Forwarded`` header), or anyone presenting
``Authorization: Bearer <FOOF_METRICS_TOKEN>`` (compared in constant time). Everyone else
gets the same 404 as any unknown path. Each app has its own registry (tests build many apps).
"""

import hmac
import ipaddress
import time

from flask import Response, abort, current_app, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from foof.extensions import db

#: Seconds; request latency buckets from the hot 1 ms reads to a slow upload.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The app's metrics: a registry, the request counters, and the send counter."""

    def __init__(self, app):
        self.app = app
        #: FOOF_METRICS_TOKEN, read once: a remote reader must send it as a Bearer token.
        self.token = str(app.config.get("FOOF_METRICS_TOKEN") or "")
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "foof_http_requests",
            "HTTP requests answered through Flask, by route pattern and status",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "foof_http_request_duration_seconds",
            "Time from the request reaching Flask to its reply, by route pattern",
            ("method", "route"),
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.sends = Counter(
            "foof_sends",
            "SMS codes and verification mails handed to the sender",
            ("channel", "outcome"),
            registry=self.registry,
        )
        self.registry.register(_Gauges(app))

    def count_send(self, channel, ok):
        self.sends.labels(channel, "sent" if ok else "failed").inc()

    def observe(self, method, route, status, seconds):
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)


class _Gauges:
    """Values read at scrape time (nothing to maintain on the request path)."""

    def __init__(self, app):
        self.app = app

    def describe(self):
        return []

    def collect(self):
        app = self.app
        server = app.extensions.get("foof.waitress")
        if server is not None:
            dispatcher = getattr(server, "task_dispatcher", None)
            queue = getattr(dispatcher, "queue", None)
            if queue is not None:
                yield GaugeMetricFamily(
                    "foof_waitress_queue_depth", "Requests waiting for a worker thread", value=len(queue)
                )
            channels = getattr(server, "active_channels", None)
            if channels is not None:
                yield GaugeMetricFamily("foof_waitress_connections", "Open client connections", value=len(channels))
            answered = getattr(dispatcher, "answered", None)
            if answered is not None:
                yield CounterMetricFamily(
                    "foof_hot_reads_io_thread",
                    "Hot reads answered on waitress's I/O thread (not counted per route)",
                    value=answered,
                )
        pool = _pool(app)
        if pool is not None:
            for name, doc, getter in (
                ("foof_db_pool_checked_out", "Database connections in use", "checkedout"),
                ("foof_db_pool_size", "Database connections the pool keeps", "size"),
            ):
                value = getattr(pool, getter, None)
                if callable(value):
                    yield GaugeMetricFamily(name, doc, value=value())
        backend = app.extensions.get("foof.search")
        queue = getattr(backend, "queue", None)
        if queue is not None:
            yield GaugeMetricFamily(
                "foof_search_index_lag",
                "Committed changes not yet written to the search index",
                value=getattr(queue, "unfinished_tasks", 0),
            )


def _pool(app):
    try:
        with app.app_context():
            return db.engine.pool
    except Exception:  # noqa: BLE001 - no engine, no pool figures
        return None


_LOOPBACK_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


def allowed(req, token):
    """Whether ``req`` may read the metrics (see the module docstring)."""
    if token:
        given = req.headers.get("Authorization", "")
        if given.startswith("Bearer ") and hmac.compare_digest(given[7:].strip().encode(), token.encode()):
            return True
    if any(name in req.headers for name in _LOOPBACK_HEADERS):
        return False
    try:
        return ipaddress.ip_address((req.remote_addr or "").split("%")[0]).is_loopback
    except ValueError:
        return False


def metrics_view():
    metrics = current_app.extensions["foof.metrics"]
    if not allowed(request, metrics.token):
        abort(404)
    body = generate_latest(metrics.registry)
    # The classic text format (0.0.4), which every Prometheus version reads.
    response = Response(body, mimetype=None, content_type=CONTENT_TYPE_PLAIN_0_0_4)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app):
    metrics = app.extensions["foof.metrics"] = Metrics(app)
    app.add_url_rule("/metrics", "ops_metrics", metrics_view, methods=["GET"])
    observe = metrics.observe

    @app.before_request
    def _metrics_start():
        g._metrics_started = time.perf_counter()

    @app.after_request
    def _metrics_done(response):
        started = g.get("_metrics_started")
        if started is not None:
            rule = request.url_rule
            observe(
                request.method, rule.rule if rule else "(no route)", response.status_code, time.perf_counter() - started
            )
        return response
