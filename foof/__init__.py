"""FOOF: the campus second-hand marketplace backend.

``create_app`` only wires: configuration, extensions, faces, error handlers, CLI, logging.
"""

import io
import logging
import os
import re
import secrets
import sys


def _jwt_without_cryptography():
    """Import PyJWT while ``cryptography`` looks absent, so it skips its RSA/EC algorithms.

    FOOF signs and verifies login tokens with HS256 only, and PyJWT would otherwise import
    cryptography at start-up: 8.2 MB of resident memory in every idle server (issue #13's
    memory profile). Alipay's signing still imports cryptography when it is first used
    (foof/domain/payments.py), after this has run; ``jwt.algorithms.has_crypto`` stays False,
    so RS256 tokens would be refused, which FOOF never issues."""
    if "cryptography" in sys.modules or "jwt" in sys.modules:
        return
    sys.modules["cryptography"] = None  # an import of it now raises ModuleNotFoundError
    try:
        import jwt  # noqa: F401
    finally:
        del sys.modules["cryptography"]


_jwt_without_cryptography()

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import event
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from foof import accesslog, admin, cli, config, legacy, ops, rest, search, senders, serving
from foof.domain import media, passwords
from foof.extensions import db, jwt
from foof.filemodes import tighten

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, except that three kinds of body are invalid JSON (the ValueError every body
    reader answers as a bad request) instead of reaching a view: nesting too deep for the
    parser (a RecursionError, else a 500), text holding a lone UTF-16 surrogate
    (``"\\ud800"``: valid JSON syntax, but no Unicode text — neither UTF-8 nor the database
    can store it), and the non-JSON constants ``NaN``/``Infinity`` that JavaScript's parser,
    the old server's, refuses."""

    def loads(self, s, **kwargs):
        # NaN, Infinity and -Infinity are not JSON (JavaScript's JSON.parse, the old server's
        # parser, refuses them); Python's parser would read them as floats.
        kwargs.setdefault("parse_constant", _not_json)
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
        if _has_lone_surrogate(value):
            raise ValueError("JSON text holds a lone surrogate")
        return value


def _not_json(name):
    raise ValueError(f"{name} is not JSON")


def _has_lone_surrogate(value):
    """Whether any string (key or value) in a parsed JSON value holds U+D800-U+DFFF. A pair
    written as two escapes is decoded to one character by the parser, so only lone halves
    remain."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not item.isascii() and _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


_SURROGATE = re.compile("[\ud800-\udfff]")


def create_app(test_config=None):
    test_config = dict(test_config or {})
    instance_path = _absolute(
        test_config.get("FOOF_INSTANCE_PATH") or os.environ.get("FOOF_INSTANCE_PATH") or "instance"
    )
    os.makedirs(instance_path, mode=0o700, exist_ok=True)
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True, static_folder=None)
    app.json = JSONProvider(app)
    _load_config(app, test_config)
    app.session_interface = CookieSessionInterface()
    _configure_logging(app)
    _keep_private(app)
    db.init_app(app)
    jwt.init_app(app)
    _tune_sqlite(app)
    app.extensions["foof.senders"] = senders.build(app.config, app.instance_path)
    app.extensions["foof.image_decodes"] = media.decode_slots(app.config["FOOF_IMAGE_DECODES"])
    passwords.init_app(app)  # a bad FOOF_PASSWORD_HASH_METHOD stops start-up with a clear error
    search.init_app(app)
    rest.init_app(app)
    legacy.init_app(app)
    cli.init_app(app)
    admin.init_app(app)
    admin.register_commands(app)
    ops.init_app(app)
    accesslog.init_app(app)
    _guard_bodies(app)
    _mark_files(app)
    if app.config["FOOF_TRUST_PROXY"]:
        hops = app.config["FOOF_TRUST_PROXY"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    return app


def _absolute(path):
    return path if os.path.isabs(path) else os.path.join(PROJECT_ROOT, path)


def _load_config(app, test_config):
    app.config.from_mapping(config.DEFAULTS)
    app.config.from_pyfile("foof.cfg", silent=True)
    app.config.update(config.from_environment())
    app.config.update(test_config)
    cfg = app.config
    cfg["FOOF_INSTANCE_PATH"] = app.instance_path
    cfg["FOOF_MEDIA_ROOT"] = _absolute(cfg["FOOF_MEDIA_ROOT"])
    cfg["FOOF_UPLOAD_ROOT"] = _absolute(cfg["FOOF_UPLOAD_ROOT"])
    cfg["FOOF_SEARCH_INDEX"] = _absolute(cfg["FOOF_SEARCH_INDEX"] or os.path.join(app.instance_path, "index"))
    url = cfg["FOOF_DATABASE_URL"] or "sqlite:///" + os.path.join(app.instance_path, "foof.db")
    cfg["FOOF_DATABASE_URL"] = url
    cfg["SQLALCHEMY_DATABASE_URI"] = url
    cfg["FOOF_INLINE_READS"] = serving.inline_choice(cfg["FOOF_INLINE_READS"])
    # A pooled connection for every waitress thread (plus the index writer and slack): with
    # SQLAlchemy's default of 5, threads 6-8 opened and closed a connection per request.
    options = {"pool_size": int(cfg["FOOF_DB_POOL_SIZE"]), "max_overflow": 10}
    if url.startswith("mysql"):
        options.update(pool_pre_ping=True, pool_recycle=3600)
    in_memory = url in ("sqlite://", "sqlite:///") or ":memory:" in url  # one shared connection
    if not in_memory:
        cfg.setdefault("SQLALCHEMY_ENGINE_OPTIONS", options)
    cfg["SECRET_KEY"] = cfg["FOOF_SECRET_KEY"] or _instance_secret(app, "secret_key")
    cfg["JWT_SECRET_KEY"] = cfg["FOOF_JWT_SECRET"] or _instance_secret(app, "jwt_secret")
    cfg["JWT_ALGORITHM"] = "HS256"
    cfg["JWT_DECODE_ALGORITHMS"] = ["HS256"]
    cfg["JWT_IDENTITY_CLAIM"] = "uuid"  # the legacy claim name
    cfg["MAX_CONTENT_LENGTH"] = cfg["FOOF_MAX_UPLOAD_BYTES"]
    # Flask caps each multipart text field at 500 kB by default; the contract's only limit
    # is the whole body's.
    cfg["MAX_FORM_MEMORY_SIZE"] = cfg["FOOF_MAX_UPLOAD_BYTES"]
    cfg["JSON_AS_ASCII"] = False


def _keep_private(app):
    """The instance folder (secrets, the SQLite database, the outboxes with live SMS codes)
    and the search index are the server's alone: folders 0700, files 0600. The database
    file is created 0600 before SQLAlchemy first connects (SQLite gives its -wal and -shm
    files the main file's mode); anything already there with looser modes is tightened
    now, with a log line. The outboxes are kept private by foof.senders."""
    for folder in (app.instance_path, app.config["FOOF_SEARCH_INDEX"]):
        os.makedirs(folder, mode=0o700, exist_ok=True)
        tighten(folder, 0o700)
    database = _sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])
    if database:
        os.makedirs(os.path.dirname(database) or ".", exist_ok=True)
        try:
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass
        for suffix in ("", "-wal", "-shm", "-journal"):
            tighten(database + suffix, 0o600)
    for name in ("secret_key", "jwt_secret", "foof.cfg"):
        tighten(os.path.join(app.instance_path, name), 0o600)


def _sqlite_file(url):
    """The database file of a SQLite URL, None for another database or an in-memory one."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    if parsed.database.startswith("file:"):  # a URI filename: leave it to its owner
        return None
    return os.path.abspath(parsed.database)


def _instance_secret(app, name):
    """A random secret kept in ``instance/<name>`` (0600), created once, never committed."""
    path = os.path.join(app.instance_path, name)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        with open(path, encoding="ascii") as fh:
            return fh.read().strip()
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        value = secrets.token_urlsafe(48)
        fh.write(value)
    return value


def _configure_logging(app):
    level = getattr(logging, str(app.config["FOOF_LOG_LEVEL"]).upper(), logging.INFO)
    root = logging.getLogger("foof")
    root.setLevel(level)
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    app.logger.setLevel(level)


def _tune_sqlite(app):
    """WAL (readers never wait for the writer) and a busy timeout for the embedded database."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()


def _guard_bodies(app):
    """Refuse a body over the request's limit before any view runs, whether or not the view
    reads it (a 5 MB ``POST /orders/1?trans=0`` used to create an order). The limit is
    ``request.max_content_length``: ``FOOF_MAX_UPLOAD_BYTES`` (1 MiB), raised to
    ``FOOF_MAX_PHOTO_UPLOAD_BYTES`` (10 MiB) for multipart photo uploads of both faces by
    ``foof.rest``'s own hook, which was registered before this one and so has run. The 413 is answered by each face's handler (legacy text, REST 6001)."""

    @app.before_request
    def _body_limit():
        if request.environ.get(serving.BODY_TOO_LARGE):  # waitress refused the body
            raise RequestEntityTooLarge()
        limit = request.max_content_length
        if limit is None:
            return
        length = request.content_length
        if length is not None:
            if length > limit:
                raise RequestEntityTooLarge()
        elif (
            "chunked" in request.headers.get("Transfer-Encoding", "").lower()
            and request.environ.get("wsgi.input_terminated")
            and "stream" not in request.__dict__
        ):
            # No length to compare (a chunked body: waitress gives one, having de-chunked
            # it; another server may not): read at most the limit and a byte now, and hand
            # the view what was read.
            _read_within(request.environ, limit)


def _read_within(environ, limit):
    stream, chunks, size = environ["wsgi.input"], [], 0
    while size <= limit:
        chunk = stream.read(min(64 * 1024, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        raise RequestEntityTooLarge()
    environ["wsgi.input"] = io.BytesIO(b"".join(chunks))


#: The endpoints that serve stored files (the legacy images and the REST uploads).
FILE_ENDPOINTS = frozenset({"media_avatar", "media_item", "rest_users.uploaded"})


def _mark_files(app):
    """``X-Content-Type-Options: nosniff`` on served files, so a browser never runs one as
    anything but the image its type says; the legacy JSON replies keep the old header set."""

    @app.after_request
    def _nosniff(response):
        if request.endpoint in FILE_ENDPOINTS and response.status_code < 400:
            response.headers["X-Content-Type-Options"] = "nosniff"
        return response


class CookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session (the secondhand face's login), opened only when the
    request carries the cookie: the legacy face never does, and building the signing
    serializer for every request was a measurable share of a simple GET."""

    def open_session(self, app, request):
        if app.config["SESSION_COOKIE_NAME"] not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)
