"""``GET /healthz`` (the process answers) and ``GET /readyz`` (it can serve requests).

Both are plain text and cheap: ``/healthz`` touches nothing; ``/readyz`` runs ``SELECT 1``,
lists the tables (one catalogue query) and opens the search index's current folder. A load
balancer or systemd watchdog polls them; ``/readyz`` answers 503 with one line per problem.
"""

from flask import Response, current_app

from foof.ops import startup


def _plain(text, status=200):
    response = Response(text + "\n", status=status, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


def healthz():
    return _plain("ok")


def readyz():
    problems = startup.problems(current_app, search=True)
    if problems:
        return _plain("not ready\n" + "\n".join(problems), 503)
    return _plain("ready")


def init_app(app):
    app.add_url_rule("/healthz", "ops_healthz", healthz, methods=["GET"])
    app.add_url_rule("/readyz", "ops_readyz", readyz, methods=["GET"])
