"""Operating FOOF (issue #14): health and readiness, metrics, backups, the start-up check.

``/healthz`` says the process answers, ``/readyz`` that it can serve (database reachable, every
table present, search index openable), ``/metrics`` is the Prometheus text format (loopback or
``FOOF_METRICS_TOKEN`` only). :func:`foof.ops.startup.problems` is what ``python wsgi.py``
checks before it listens.
"""

from foof.ops import health, metrics, seclogfile


def init_app(app):
    """Register the operations routes and the request metrics hooks."""
    metrics.init_app(app)
    health.init_app(app)
    seclogfile.init_app(app)
