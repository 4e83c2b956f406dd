"""The secondhand face (``/users``, ``/products``, ``/orders``, ``/alipay``): docs/rest-api.md.

Cross-site request forgery (issue #11): the login is a cookie, which a browser attaches to
requests other sites make. So the session cookie is ``SameSite=Lax`` (and ``Secure`` behind
TLS), and an unsafe request (POST, PUT, PATCH, DELETE) that carries the session cookie and no
``Authorization: Bearer`` header is refused — before the view runs, so nothing is written —
when its ``Origin`` (or, without one, its ``Referer``) names another origin, or when its body
is of a type an HTML form can send cross-site without asking (urlencoded, multipart,
text/plain): such clients send JSON. The upload routes take multipart by nature; for them
only the origin rule applies. A request with a Bearer token carries no ambient credential and
is not checked; neither is a request without the cookie (nothing to forge with).
"""

from urllib.parse import urlsplit

from flask import current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from foof import config as settings
from foof.rest import alipay, envelope, openapi, orders, products, reports, users

PREFIXES = ("/users", "/products", "/orders", "/alipay", "/upload", "/reports")
#: The legacy face's photo uploads (the app sends full-size camera photos as repeated
#: ``file`` parts): they share the REST uploads' limit, FOOF_MAX_PHOTO_UPLOAD_BYTES.
LEGACY_UPLOAD_ENDPOINTS = ("legacy_user.avatar", "legacy_item.image")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: The body types a cross-site HTML form (or a no-preflight fetch) can send.
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})
#: Called by Alipay's servers, never by a browser holding our cookie.
UNCHECKED_ENDPOINTS = ("rest_alipay.notice",)
#: The refusals: "not allowed" (4004, HTTP 403), each with its own message.
FOREIGN_ORIGIN = (4004, "跨站请求被拒绝", 403)
FORM_WITH_COOKIE = (4004, "请使用 JSON 请求体", 403)
DEFAULT_PORTS = {"http": 80, "https": 443}


def init_app(app):
    for blueprint in (users.bp, products.bp, orders.bp, alipay.bp, reports.bp, openapi.bp):
        app.register_blueprint(blueprint)
    # Flask's defaults already hold these keys (as None/False), so setdefault would do nothing.
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if not app.config.get("SESSION_COOKIE_SAMESITE"):
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = cookie_secure(app.config)

    photo_endpoints = frozenset(users.UPLOAD_ENDPOINTS + products.UPLOAD_ENDPOINTS + LEGACY_UPLOAD_ENDPOINTS)

    @app.before_request
    def _upload_limit():
        """A multipart body to a photo-upload route of either face may be as large as
        FOOF_MAX_PHOTO_UPLOAD_BYTES (default 10 MiB: phone photos are 2-5 MB each, issue #12
        item 4); foof's ``_guard_bodies`` hook, registered after this one, enforces the
        request's limit. Any other body to those routes keeps FOOF_MAX_UPLOAD_BYTES. File
        parts are spooled to disk by werkzeug beyond 500 kB, so the larger body does not sit
        in memory while parsed; text parts (token, itemid) keep the 1 MiB memory cap."""
        if request.endpoint in photo_endpoints and request.mimetype == "multipart/form-data":
            request.max_content_length = photo_limit(current_app.config)

    @app.before_request
    def _forgery_check():
        refused = forgery_refusal()
        if refused is not None:
            state, message, status = refused
            return envelope.respond(None, state, message, status)
        return None


def photo_limit(cfg):
    """The body limit of a multipart photo upload (FOOF_MAX_PHOTO_UPLOAD_BYTES)."""
    return int(cfg["FOOF_MAX_PHOTO_UPLOAD_BYTES"])


def cookie_secure(cfg):
    """FOOF_SESSION_COOKIE_SECURE: "auto" = when FOOF_PUBLIC_URL is https; true/false words force it."""
    value = str(cfg.get("FOOF_SESSION_COOKIE_SECURE", "auto")).strip().lower()
    if value == "auto":
        return str(cfg.get("FOOF_PUBLIC_URL") or "").strip().lower().startswith("https://")
    if value in settings.TRUE_WORDS:
        return True
    if value in settings.FALSE_WORDS:
        return False
    raise ValueError(f"FOOF_SESSION_COOKIE_SECURE must be auto, 1 or 0, not {value!r}")


def _origin_of(url):
    """``(scheme, host, port)`` of a URL, or None when it has none (``null``, garbage)."""
    try:
        parts = urlsplit(str(url).strip())
        scheme, host, port = parts.scheme.lower(), (parts.hostname or "").lower(), parts.port
    except ValueError:
        return None
    if scheme not in DEFAULT_PORTS or not host:
        return None
    return scheme, host, port or DEFAULT_PORTS[scheme]


def _own_origins():
    own = {_origin_of(request.host_url)}  # the request's own host and scheme (after ProxyFix)
    public = current_app.config.get("FOOF_PUBLIC_URL")
    if public:
        own.add(_origin_of(public))
    own.discard(None)
    return own


def _foreign_source():
    """Whether ``Origin`` (or, without it, ``Referer``) names an origin other than ours. A
    request with neither (curl, the mobile app) is not foreign."""
    source = request.headers.get("Origin")
    if source is None:
        source = request.headers.get("Referer")
    if source is None:
        return False
    return _origin_of(source) not in _own_origins()


def cookie_authenticated():
    """The request would be authenticated by the session cookie (it carries it, no Bearer)."""
    if request.headers.get("Authorization", "")[:7].lower() == "bearer ":
        return False
    return current_app.config["SESSION_COOKIE_NAME"] in request.cookies


def forgery_refusal():
    """``(state, message, status)`` when this request must be refused as a possible forgery."""
    if request.method not in UNSAFE_METHODS or request.blueprint not in REST_BLUEPRINTS:
        return None
    if request.endpoint in UNCHECKED_ENDPOINTS or not cookie_authenticated():
        return None
    if _foreign_source():
        return FOREIGN_ORIGIN
    if request.endpoint in users.UPLOAD_ENDPOINTS + products.UPLOAD_ENDPOINTS:
        return None
    if request.mimetype in FORM_TYPES:
        return FORM_WITH_COOKIE
    return None


REST_BLUEPRINTS = frozenset(bp.name for bp in (users.bp, products.bp, orders.bp, alipay.bp, reports.bp))


def is_rest_path(path):
    return path.startswith(PREFIXES)


def too_large():
    return envelope.respond(None, 6001, "上传文件过大！")


__all__ = ["init_app", "is_rest_path", "too_large", "RequestEntityTooLarge"]
