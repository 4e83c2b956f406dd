"""The legacy face: blueprints, the case-insensitive path rule and the plain-text errors.

Two rules of the old server's wire hold for every request of this face, whatever the route
(``tests/test_legacy_wire.py``):

* a JSON body (``Content-Type: application/json``) that is not valid JSON, or is valid JSON
  but not an object (an array, a string, a number, ``true``/``false``/``null``; also text
  holding a lone surrogate, which the app's JSON provider treats as invalid), is answered
  ``400 Bad Request``, ``text/plain; charset=utf-8``, body ``Bad Request`` before any route
  runs — the old server's body parser refused it before the router saw it, so even a token
  route answers 400, not 403. An empty JSON body is no fields, as it was there. A body over
  its limit is still a 413 first (the limit was checked while reading, before parsing).
* the status line carries Node's reason phrase (``403 Forbidden``, ``404 Not Found``,
  ``413 Payload Too Large``), see :data:`foof.legacy.render.REASONS`.

The secondhand (REST) face keeps its own answers to both (state 4005, werkzeug's phrases).
"""

from flask import current_app, request, send_from_directory
from werkzeug.exceptions import HTTPException, NotFound

from foof.legacy import chat, fav, item, render, user
from foof.legacy.hot import HotPath


def init_app(app):
    for blueprint in (user.bp, item.bp, fav.bp, chat.bp):
        app.register_blueprint(blueprint)
    app.add_url_rule("/image/avatar/<path:name>", "media_avatar", _media("avatar"))
    app.add_url_rule("/image/item/<path:name>", "media_item", _media("item"))
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _crash)
    from foof.serving import BODY_TOO_LARGE  # not at import time: foof.serving imports this package

    @app.before_request
    def _json_body_is_an_object():
        if not request.is_json or not legacy_request():
            return None
        length = request.content_length
        limit = request.max_content_length
        if not length or request.environ.get(BODY_TOO_LARGE) or (limit is not None and length > limit):
            # No body: no fields. Over the limit: the body guard's 413 comes first. No
            # length (chunked): foof.legacy.wire.fields() applies the same rule when read.
            return None
        if isinstance(request.get_json(silent=True), dict):
            return None
        return render.text(400)

    app.after_request(_node_status_line)
    app.wsgi_app = app.extensions["foof.hot_path"] = HotPath(app, PathNormaliser(app.wsgi_app, app.url_map))


def _media(folder):
    def serve(name):
        # send_from_directory refuses ``..`` and absolute names (werkzeug safe_join).
        root = current_app.config["FOOF_MEDIA_ROOT"]
        return send_from_directory(f"{root}/{folder}", name, max_age=3600)

    serve.__name__ = f"media_{folder}"
    return serve


def legacy_request():
    """Whether the current request belongs to the legacy face (not a secondhand route, nor a
    path under a secondhand prefix, where even an unknown path answers the REST way)."""
    from foof import rest

    return not (request.blueprint or "").startswith("rest_") and not rest.is_rest_path(request.path)


def _node_status_line(response):
    """Every legacy reply's status line with Node's reason phrase (``403 Forbidden``); the
    server is told to write its head as Node did (:data:`foof.legacy.render.NODE_HEAD`)."""
    if legacy_request():
        line = render.status_line(response.status_code)
        if response.status != line:
            response.status = line
        request.environ[render.NODE_HEAD] = True
    return response


def _http_error(exc):
    from foof import rest

    code = exc.code or 500
    if code == 413 and rest.is_rest_path(request.path):
        return rest.too_large()
    if code == 405:  # the old server answered a wrong method like an unknown path
        code = 404
    if rest.is_rest_path(request.path):  # the secondhand face keeps werkzeug's status lines
        return render.Response(render.PHRASES.get(code, exc.name), status=code, content_type=render.TEXT_TYPE)
    return render.text(code)


def _crash(exc):
    current_app.logger.exception("unhandled error")
    return render.text(500)


class PathNormaliser:
    """WSGI middleware: case-insensitive routes with one optional trailing slash.

    Only path segments that spell a literal segment of some route (``USER`` → ``user``)
    are lower-cased, position by position, so tokens and file names in the path keep their
    case. The set is built from the URL map on first use, so new routes join automatically.
    """

    def __init__(self, app, url_map):
        self.app, self.url_map, self._literals = app, url_map, None

    def literals(self):
        if self._literals is None:
            found = {}
            for rule in self.url_map.iter_rules():
                for position, segment in enumerate(rule.rule.strip("/").split("/")):
                    if "<" not in segment:
                        found.setdefault(position, set()).add(segment.lower())
            self._literals = found
        return self._literals

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if len(path) > 1 and path.endswith("/"):
            path = path[:-1]
        literals = self.literals()
        segments = path.split("/")
        for index, segment in enumerate(segments[1:]):
            lowered = segment.lower()
            if lowered != segment and lowered in literals.get(index, ()):
                segments[index + 1] = lowered
        environ["PATH_INFO"] = "/".join(segments)
        return self.app(environ, start_response)


__all__ = ["init_app", "NotFound"]
