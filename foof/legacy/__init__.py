"""The legacy face: blueprints, the case-insensitive path rule and the plain-text errors."""
from flask import current_app, send_from_directory
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
    app.wsgi_app = app.extensions["foof.hot_path"] = HotPath(app, PathNormaliser(app.wsgi_app, app.url_map))


def _media(folder):
    def serve(name):
        # send_from_directory refuses ``..`` and absolute names (werkzeug safe_join).
        root = current_app.config["FOOF_MEDIA_ROOT"]
        return send_from_directory(f"{root}/{folder}", name, max_age=3600)

    serve.__name__ = f"media_{folder}"
    return serve


def _http_error(exc):
    from flask import request

    from foof import rest

    code = exc.code or 500
    if code == 413 and rest.is_rest_path(request.path):
        return rest.too_large()
    if code == 405:  # the old server answered a wrong method like an unknown path
        code = 404
    if code in render.PHRASES:
        return render.text(code)
    return render.Response(exc.name, status=code, content_type=render.TEXT_TYPE)


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
