"""The hostile suite (issue #11, "Make the suite hostile"): an exhaustive type matrix.

For every rule of the URL map (both faces) and every field its view reads — body fields,
query arguments, path parameters and the token — each hostile value is sent with every
other field valid (a logged-in user's token or session cookie, an existing item, …), so the
bad field is what is tested. Each cell must answer without a 5xx, without a traceback or SQL
in the body, and a refusal (legacy ``"status"`` not success, REST ``state`` != 200, any
4xx) must leave every data row unchanged. Some values are legitimately accepted on the
legacy face (JSON keeps its types: ``0`` is a fine text), so acceptance is allowed; only
"refusal means unchanged" is asserted. Safe methods (GET) never change a row at all, except
the mailed link's JSON GET that the contract makes confirm.

:data:`ROUTES` must name every ``(rule, method)`` of the URL map: a new route without an
entry fails :func:`test_every_route_has_an_entry`, and a field a view reads by name that the
table does not list fails :func:`test_every_field_a_view_reads_is_in_the_table`.

One app per route (a parametrised test); the field × value grid runs inside it.
"""

import hashlib
import inspect
import json
import re
import time
import urllib.parse

import pytest

from tests.conftest import table_snapshot

# ----------------------------------------------------------------------------- the values

HUGE = "x" * 100_000
#: Every JSON type the issue names (the lone surrogate goes out as the escape ``\ud800``).
JSON_VALUES = [
    ("null", None),
    ("true", True),
    ("0", 0),
    ("-1", -1),
    ("1e308", 1e308),
    ("empty", ""),
    ("surrogate", "\ud800"),
    ("[]", []),
    ('["x"]', ["x"]),
    ("{}", {}),
    ("100kB", HUGE),
]
#: The same as they reach a query string or a path: strings (raw, not yet URL-encoded).
SURROGATE_URL = "%ED%A0%80"
STRING_VALUES = [
    ("null", "null"),
    ("true", "true"),
    ("0", "0"),
    ("-1", "-1"),
    ("1e308", "1e308"),
    ("empty", ""),
    ("surrogate", SURROGATE_URL),
    ("[]", "[]"),
    ('["x"]', '["x"]'),
    ("{}", "{}"),
    ("100kB", HUGE),
]
LEAKS = (
    "Traceback",
    "sqlalchemy",
    "SELECT ",
    "INSERT ",
    "UPDATE ",
    "DELETE FROM",
    "pymysql",
    "sqlite3",
    "Error(",
    'File "/',
)
TYPES = {
    "application/json; charset=utf-8",
    "text/plain; charset=utf-8",
    "text/html; charset=utf-8",
    "image/jpeg",
    "text/plain",
    "text/plain; version=0.0.4; charset=utf-8",  # /metrics (Prometheus text format)
}
ABSENT = object()  # a field that is only sent when it is the one under test


# ----------------------------------------------------------------------------- the world


def _sha1(text):
    return hashlib.sha1(text.encode()).hexdigest()


REST_PASSWORD = "123456"
SELLER_PHONE, BUYER_PHONE, NEW_PHONE = "13800000001", "13800000002", "13900000009"


class World:
    """Two users with items, a reservation, an order, a favourite, a message, a REST account."""

    def __init__(self, app, client, make_user, make_item, token_for):
        from foof.domain import messaging, orders
        from foof.extensions import db

        self.app, self.client, self._token_for = app, client, token_for
        self.seller = make_user(SELLER_PHONE, _sha1(REST_PASSWORD), idcard="213170001")
        self.buyer = make_user(BUYER_PHONE, _sha1(REST_PASSWORD), idcard="213170002")
        self.item = make_item(self.seller)  # 1: on sale, the seller's
        self.reserved = make_item(self.seller, sold=3, to=self.buyer)  # 2: reserved for the buyer
        self.other = make_item(self.buyer, title="二手自行车", type=3)  # 3: on sale, the buyer's
        self.to_buy = make_item(self.buyer, title="台灯")  # 4: for the seller to buy
        with app.app_context():
            self.order = orders.create(self.seller, self.other, "0")  # the seller buys item 3
            self.sold_item = make_item(self.seller, title="书桌")  # the seller's, ordered by
            self.sale = orders.create(self.buyer, self.sold_item, "0")  # the buyer
            self.message = messaging.push(self.buyer, self.seller, 0, "想要")  # a trade request
            db.session.rollback()
        self.refresh()
        assert client.post("/fav/add", json={"token": self.token, "data": [self.to_buy]}).json["status"] == "success"
        reply = client.post(
            "/users",
            json={"username": "xiaocaomei", "password": "abcdefg", "resetQuestion": "3", "resetAnswer": "happy"},
        )
        assert reply.json["state"] == 200, reply.json
        assert client.get("/users/detail").json["state"] == 200  # the seller's profile row exists

    def refresh(self):
        """A fresh login token and session cookie for the seller (after a cell that changed
        the password or ended sessions, so the next cell tests its own field again)."""
        self.token = self._token_for(self.seller)
        reply = self.client.post("/users/sessions", json={"username": SELLER_PHONE, "password": REST_PASSWORD})
        if reply.json["state"] != 200:  # the password was changed by an accepted cell: set it back
            self._reset_password()
            reply = self.client.post("/users/sessions", json={"username": SELLER_PHONE, "password": REST_PASSWORD})
        assert reply.json["state"] == 200, reply.json

    def _reset_password(self):
        from sqlalchemy import update

        from foof.domain import passwords
        from foof.extensions import db
        from foof.models import User

        with self.app.app_context():
            db.session.execute(
                update(User)
                .where(User.uuid == self.seller)
                .values(password=passwords.hash_password(_sha1(REST_PASSWORD)))
            )
            db.session.commit()

    def code(self, phonenumber):
        """A live SMS code for ``phonenumber`` (its rate-limit events forgotten first)."""
        from foof.domain import ratelimit, verification
        from foof.domain.tx import atomic

        with self.app.app_context():
            atomic(ratelimit.forget, "sms:phone", phonenumber)
            sms = self.app.extensions["foof.senders"][0]
            return verification.request_code(phonenumber, None, sms)

    def mail_token(self):
        from foof.domain import tokens

        with self.app.app_context():
            return tokens.mail_token(self.seller, "213170001")


# Valid values, resolved per cell against the world.
TOKEN = lambda w: w.token  # noqa: E731
SELLER = lambda w: w.seller  # noqa: E731
BUYER = lambda w: w.buyer  # noqa: E731
ITEM = lambda w: w.item  # noqa: E731
RESERVED = lambda w: w.reserved  # noqa: E731
ORDER = lambda w: w.order  # noqa: E731
MESSAGE = lambda w: w.message  # noqa: E731


def spec(face, body=None, args=None, path=None, login=True, form=False, refuses_valid=False):
    """One way to call a route. ``face``: legacy or rest; ``body``/``args``/``path`` map the
    fields the view reads to a valid value (or a callable of the world, or ABSENT);
    ``login``: the call is made as the seller (legacy token / REST cookie); ``refuses_valid``:
    even the valid request is refused here (an upload route without a file, payments without
    Alipay keys, a notice without Alipay's signature)."""
    return {
        "face": face,
        "body": dict(body or {}),
        "args": dict(args or {}),
        "path": dict(path or {}),
        "login": login,
        "form": form,
        "refuses_valid": refuses_valid,
    }


def legacy(body=None, path=None, token=True, refuses_valid=False):
    body = dict(body or {})
    if token:
        body = {"token": TOKEN, **body}
    return spec("legacy", body=body, path=path, login=token, refuses_valid=refuses_valid)


def rest(body=None, args=None, path=None, login=True, refuses_valid=False):
    return spec("rest", body=body, args=args, path=path, login=login, refuses_valid=refuses_valid)


def upload(**kwargs):
    return rest({"file": ABSENT}, refuses_valid=True, **kwargs)


ITEM_BODY = {"title": "九成新小米充电宝", "type": 1, "price": 39.9, "depreciatione": 90, "note": "东门自提"}
PRODUCT_BODY = {
    "name": "卫生纸",
    "category": "00005",
    "description": "超市买的，剩下4包",
    "location": "1",
    "price": "4",
    "tags": "餐巾纸,卫生纸",
}
ALIPAY_NOTICE = {
    "notify_id": "1",
    "app_id": "2021000000000000",
    "out_trade_no": "00000000000000000001",
    "trade_no": "2026120122001",
    "trade_status": "TRADE_SUCCESS",
    "total_amount": "1.23",
    "sign_type": "RSA2",
    "sign": "abc",
}

#: (rule, method) → the ways to call it (a list when one route does two things).
ROUTES = {
    # ---- legacy face
    ("/user/<uuid>", "GET"): legacy(path={"uuid": SELLER}, token=False),
    ("/user/me", "POST"): legacy(),
    ("/user/published", "POST"): legacy({"uuid": SELLER}, token=False),
    ("/user/finished", "POST"): legacy(),
    ("/user/login", "POST"): legacy({"phonenumber": SELLER_PHONE, "password": _sha1(REST_PASSWORD)}, token=False),
    ("/user/register", "POST"): legacy(
        {"phonenumber": NEW_PHONE, "verifycode": lambda w: w.code(NEW_PHONE), "password": _sha1("new password")},
        token=False,
    ),
    ("/user/reset", "POST"): legacy(
        {"phonenumber": BUYER_PHONE, "verifycode": lambda w: w.code(BUYER_PHONE), "password": _sha1(REST_PASSWORD)},
        token=False,
    ),
    ("/user/requirecode", "POST"): legacy({"phonenumber": NEW_PHONE}, token=False),
    ("/user/avatar", "POST"): legacy({"file": ABSENT}, refuses_valid=True),
    ("/user/modify", "POST"): legacy(
        {
            "username": "小王",
            "password": ABSENT,
            "idcard": "213170001",
            "studentid": "213170001",
            "address": "梅园",
            "info": "你好",
        }
    ),
    ("/user/mail/verify", "POST"): legacy({"idcard": "213170001"}),
    ("/user/mail/verify/<path:token>", "GET"): legacy(path={"token": lambda w: w.mail_token()}, token=False),
    ("/user/mail/verify/<path:token>", "POST"): legacy(path={"token": lambda w: w.mail_token()}, token=False),
    ("/item/<itemid>", "GET"): legacy(path={"itemid": ITEM}, token=False),
    ("/item/search", "POST"): legacy({"method": "good", "query": "充电宝", "from": 0, "size": 10}, token=False),
    ("/item/add", "POST"): legacy({**ITEM_BODY, "sold": 1, "uuid": ABSENT, "imgurl": ABSENT, "to": ABSENT}),
    ("/item/modify", "POST"): legacy({"itemid": ITEM, **ITEM_BODY}),
    ("/item/delete", "POST"): legacy({"itemid": ITEM}),
    ("/item/image", "POST"): legacy({"itemid": ITEM, "file": ABSENT}, refuses_valid=True),
    ("/item/order", "POST"): legacy({"itemid": ITEM, "to": BUYER}),
    ("/item/trade", "POST"): legacy({"itemid": RESERVED}),
    ("/item/reset", "POST"): legacy({"itemid": RESERVED}),
    ("/fav/query", "POST"): legacy(),
    ("/fav/add", "POST"): legacy({"data": lambda w: [w.item]}),
    ("/fav/delete", "POST"): legacy({"data": lambda w: [w.to_buy]}),
    ("/user/chat/push", "POST"): legacy({"to": BUYER, "type": 1, "data": "你好"}),
    ("/user/chat/fetchnew", "POST"): legacy(),
    ("/user/chat/fetchall", "POST"): legacy({"since": 0, "limit": 50}),
    ("/user/want/delete", "POST"): legacy({"id": MESSAGE}),
    ("/user/want/deleteall", "POST"): legacy({"itemid": ITEM}),
    ("/recommend/<uuid>", "GET"): legacy(path={"uuid": SELLER}, token=False),
    ("/image/avatar/<path:name>", "GET"): legacy(path={"name": "default.jpg"}, token=False),
    ("/image/item/<path:name>", "GET"): legacy(path={"name": "default.jpg"}, token=False),
    # ---- secondhand face
    ("/users", "POST"): rest(
        {"username": "dacaomei", "password": "abcdefg", "resetQuestion": "3", "resetAnswer": "happy"}, login=False
    ),
    ("/users/sessions", "POST"): rest({"username": SELLER_PHONE, "password": REST_PASSWORD}, login=False),
    ("/users/sessions", "DELETE"): rest(),
    ("/users/password", "PATCH"): rest({"oldPassword": REST_PASSWORD, "newPassword": REST_PASSWORD}),
    ("/users/password/reset", "POST"): rest(
        {"username": "xiaocaomei", "resetAnswer": "happy", "newPassword": "abcdefg"}, login=False
    ),
    ("/users/detail", "GET"): rest(),
    ("/users/detail", "POST"): rest(
        {
            "studentNumber": "213170001",
            "phoneNumber": SELLER_PHONE,
            "email": "a@seu.edu.cn",
            "alias": "小王",
            "description": "你好",
            "verifyCode": ABSENT,
        }
    ),
    ("/users/detail/avatar", "PATCH"): upload(),
    ("/users/detail/avatar", "POST"): upload(),
    ("/users/detial/avatar", "PATCH"): upload(),
    ("/users/detial/avatar", "POST"): upload(),
    ("/users/detail/studentcard", "PATCH"): upload(),
    ("/users/detail/studentcard", "POST"): upload(),
    ("/users/detial/studentcard", "PATCH"): upload(),
    ("/users/detial/studentcard", "POST"): upload(),
    ("/upload/<path:name>", "GET"): rest(path={"name": "p0.jpg"}, refuses_valid=True),  # no such file
    ("/products", "GET"): rest(args={"page": "1", "size": "20"}, login=False),
    ("/products", "POST"): rest(PRODUCT_BODY),
    ("/products/<cid>", "GET"): rest(args={"page": "1", "size": "20"}, path={"cid": "00001"}, login=False),
    ("/products/<pid>", "PATCH"): rest(PRODUCT_BODY, path={"pid": lambda w: f"{w.item:020d}"}),
    ("/products/<pid>", "DELETE"): rest(path={"pid": lambda w: f"{w.item:020d}"}),
    ("/products/detail/<pid>", "GET"): rest(path={"pid": lambda w: f"{w.item:020d}"}, login=False),
    ("/products/img/<pid>", "PATCH"): upload(path={"pid": lambda w: f"{w.item:020d}"}),
    ("/products/img/<pid>", "POST"): upload(path={"pid": lambda w: f"{w.item:020d}"}),
    ("/orders/<key>", "POST"): [
        rest(args={"trans": "0"}, path={"key": lambda w: f"{w.to_buy:020d}"}),  # buy
        rest(args={"type": "2", "number": "SF123456"}, path={"key": lambda w: f"{w.order:020d}"}),  # express
        rest(args={"type": "1", "number": "T2026"}, path={"key": lambda w: f"{w.sale:020d}"}),  # pay id
    ],
    ("/orders/buy", "GET"): rest(),
    ("/orders/sell", "GET"): rest(),
    ("/orders/state/<order_id>", "POST"): rest(args={"state": "1"}, path={"order_id": lambda w: f"{w.order:020d}"}),
    ("/alipay/info", "POST"): rest({"out_trade_no": lambda w: f"{w.order:020d}"}, refuses_valid=True),
    ("/alipay/response", "POST"): spec("rest", body=ALIPAY_NOTICE, login=False, form=True, refuses_valid=True),
    ("/openapi.json", "GET"): rest(login=False),
    # Operations (issue #14): no inputs; /metrics answers loopback clients (the test client is one).
    ("/healthz", "GET"): legacy(token=False),
    ("/readyz", "GET"): legacy(token=False),
    ("/metrics", "GET"): legacy(token=False),
    ("/reports", "POST"): rest(
        {"kind": "product", "id": lambda w: f"{w.other:020d}", "reason": "fake", "note": "假货"}
    ),
}
#: Token routes of the secondhand face also read ``Authorization: Bearer`` (the legacy token).
BEARER = "Authorization: Bearer"
UNREAD = "?x"
#: Routes whose accepted cells may change the seller's password or end the session: after
#: one, the world logs in again, so the next cell still tests only its own field.
CREDENTIAL_ROUTES = {"/user/modify", "/users/password", "/users/sessions", "/users/password/reset"}


def _listing_app():
    from foof import create_app

    return create_app(
        {
            "FOOF_INSTANCE_PATH": "/tmp/foof-route-listing",
            "FOOF_DATABASE_URL": "sqlite://",
            "FOOF_JWT_SECRET": "x" * 40,
            "FOOF_SECRET_KEY": "x",
        }
    )


def _is_console(rule):
    """The staff console (``/admin``) is HTML forms behind its own login and CSRF token, not a
    JSON face: its hostile inputs are tested in tests/test_admin_hostile.py."""
    return rule == "/admin" or rule.startswith("/admin/")


def _url_map_routes(app):
    return sorted(
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if not _is_console(rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )


LISTED = _url_map_routes(_listing_app())


def test_every_route_has_an_entry():
    """A route added later without an entry here fails the suite (and an entry for a route
    that is gone, too); each entry names exactly the route's path parameters."""
    app = _listing_app()
    assert set(ROUTES) == set(LISTED), (set(LISTED) - set(ROUTES), set(ROUTES) - set(LISTED))
    arguments = {rule.rule: set(rule.arguments) for rule in app.url_map.iter_rules()}
    for (rule, _method), ways in ROUTES.items():
        for way in ways if isinstance(ways, list) else [ways]:
            assert set(way["path"]) == arguments[rule], rule


_READ_BY_NAME = re.compile(
    r"""(?:\bfield|\.get|\bargs\.get)\(\s*["'](\w+)["']|args\[\s*["'](\w+)["']\s*\]|["'](\w+)["']\s+in\s+args"""
)


def test_every_field_a_view_reads_is_in_the_table():
    """Every field a view reads by name (``field("x")``, ``body.get("x")``,
    ``request.args.get("x")``, ``args["x"]``) has a column in its route's entry, so a field
    added to a view later is not silently left out of the matrix."""
    app = _listing_app()
    missing = []
    for rule in app.url_map.iter_rules():
        if _is_console(rule.rule):
            continue
        view = app.view_functions[rule.endpoint]
        try:
            source = inspect.getsource(inspect.unwrap(view))
        except (OSError, TypeError):
            continue
        named = {name for groups in _READ_BY_NAME.findall(source) for name in groups if name}
        named -= {"Authorization", "file", "SESSION_COOKIE_NAME"}
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            ways = ROUTES[(rule.rule, method)]
            known = set()
            for way in ways if isinstance(ways, list) else [ways]:
                known |= set(way["body"]) | set(way["args"]) | set(way["path"])
            if missing_here := named - known:
                missing.append((rule.rule, method, sorted(missing_here)))
    assert not missing, missing


def test_views_that_read_the_whole_body_have_their_domain_fields_in_the_table():
    """Views that hand the whole body to the domain (``fields()``, ``payload()``) read the
    fields the domain names; those must be columns of the matrix too."""
    from foof.domain import accounts, listings, profiles

    def body(rule, method):
        return set(ROUTES[(rule, method)]["body"])

    assert set(accounts.MODIFIABLE) <= body("/user/modify", "POST")
    assert set(listings.PARSERS) | {"sold"} <= body("/item/add", "POST")
    assert set(listings.PARSERS) <= body("/item/modify", "POST")
    assert set(profiles.DETAIL_FIELDS) | {"verifyCode"} <= body("/users/detail", "POST")


# ----------------------------------------------------------------------------- one cell


def _resolve(value, world):
    return value(world) if callable(value) else value


def _quote(value):
    """A string for a path segment, query value or form field: the surrogate goes raw as
    %ED%A0%80 (and a blank path segment as %20)."""
    if value in (SURROGATE_URL, "%20"):
        return value
    return urllib.parse.quote(str(value), safe="")


def _request(way, world, target=None, bad=None):
    """The request of one cell: every field valid except ``target`` (given ``bad``)."""
    rule, method = way["rule"], way["method"]
    path = rule
    for name, valid in way["path"].items():
        value = _quote(bad if name == target else _resolve(valid, world))
        path = re.sub(r"<(?:\w+:)?%s>" % name, lambda _: value, path)
    args = []
    for name, valid in way["args"].items():
        if name == target:
            args.append(f"{name}={_quote(bad)}")
        else:
            args.append(f"{name}={_quote(_resolve(valid, world))}")
    if target == UNREAD:
        args.append(f"x={_quote(bad)}")
    if args:
        path += "?" + "&".join(args)
    body = {}
    for name, valid in way["body"].items():
        if name == target:
            body[name] = bad
        elif valid is not ABSENT:
            body[name] = _resolve(valid, world)
    headers = {}
    if target == BEARER:
        headers["Authorization"] = "Bearer " + bad
    kwargs = {"method": method, "headers": headers}
    if method in ("GET", "DELETE") and not body:
        pass
    elif way["form"]:
        kwargs["data"] = "&".join(f"{k}={_quote(v)}" for k, v in body.items())
        kwargs["content_type"] = "application/x-www-form-urlencoded"
    else:
        kwargs["data"] = json.dumps(body)  # ensure_ascii: the lone surrogate travels as \ud800
        kwargs["content_type"] = "application/json"
    return path, kwargs


def _refused(way, reply):
    if reply.status_code != 200:
        return True
    if reply.mimetype != "application/json":
        return reply.data == b"failure"  # Alipay's notice answer
    try:
        body = json.loads(reply.data)
    except ValueError:
        return True
    if not isinstance(body, dict):
        return False  # legacy lists ([] is an answer, not a refusal)
    if way["face"] == "rest" and "state" in body:
        return body["state"] != 200
    return body.get("status") not in (None, "success") and "took" not in body


def _cells(way):
    """(field, label, bad value) for every field of the entry × every hostile value."""
    for name in way["body"]:
        for label, value in STRING_VALUES if way["form"] else JSON_VALUES:
            yield name, label, value
    for name in list(way["args"]) + list(way["path"]):
        for label, value in STRING_VALUES:
            if value == "" and name in way["path"] and "path:" not in way["rule"]:
                value = "%20"  # an empty segment is another route; a blank one is this route's
            yield name, label, value
    if way["face"] == "rest" and way["login"]:
        for label, value in STRING_VALUES:
            yield BEARER, label, ("\xed\xa0\x80" if value == SURROGATE_URL else value)
    for label, value in STRING_VALUES:  # a query argument no view reads (every route has one)
        yield UNREAD, label, value


def _ways(rule, method):
    ways = ROUTES[(rule, method)]
    out = []
    for way in ways if isinstance(ways, list) else [ways]:
        out.append({**way, "rule": rule, "method": method})
    return out


@pytest.fixture
def app(config):
    """conftest's app, with a faster reset on MySQL/MariaDB: the schema is created (and every
    table truncated) once per run by conftest, then each route's test empties the tables with
    DELETE (TRUNCATE recreates every table: ~0.3-0.5 s per test, most of the matrix's setup).
    Auto-increment ids then do not restart at 1; the world keeps the ids it made."""
    from sqlalchemy import inspect, text

    from foof import create_app
    from foof.cli import create_schema
    from foof.extensions import db
    from tests import conftest

    app = create_app(config)
    with app.app_context():
        if conftest.TEST_DB:
            if conftest.TEST_DB not in conftest._schema_ready:
                conftest._reset_database()
            else:
                with db.engine.begin() as conn:
                    conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
                    for name in inspect(db.engine).get_table_names():
                        conn.execute(text(f"DELETE FROM `{name}`"))
                    conn.execute(text("SET FOREIGN_KEY_CHECKS=1"))
        else:
            create_schema()
        app.extensions["foof.search"].rebuild()
    yield app
    app.extensions["foof.search"].close()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def world(app, client, make_user, make_item, token_for):
    return World(app, client, make_user, make_item, token_for)


@pytest.mark.parametrize(("rule", "method"), LISTED, ids=[f"{m} {r}" for r, m in LISTED])
def test_hostile_matrix(app, client, world, clock, rule, method):
    started = time.monotonic()
    failures = []
    before = None
    cells = 0
    for way in _ways(rule, method):
        accepted = 0
        for name, label, bad in _cells(way):
            cells += 1
            # Every rate-limit window (login failures 15 min, SMS 60 s, chat per minute) has
            # passed since the previous cell, so no cell is refused for its neighbours.
            clock.advance(901)
            path, kwargs = _request(way, world, name, bad)
            if before is None:
                before = table_snapshot(app)
            reply = client.open(path, **kwargs)
            where = f"{method} {rule} {name}={label}"
            text = reply.data.decode("utf-8", "replace")
            if reply.status_code >= 500:
                failures.append(f"{where}: HTTP {reply.status_code} {text[:120]!r}")
            leaked = [leak for leak in LEAKS if leak in text]
            if leaked:
                failures.append(f"{where}: body leaks {leaked}: {text[:200]!r}")
            if reply.headers.get("Content-Type", "") not in TYPES:
                failures.append(f"{where}: Content-Type {reply.headers.get('Content-Type')!r}")
            refused = _refused(way, reply)
            accepted += not refused
            reply.close()
            must_not_write = refused or (method == "GET" and rule != "/user/mail/verify/<path:token>")
            after = table_snapshot(app) if must_not_write else None
            if must_not_write and after != before:
                changed = sorted(t for t in after if after[t] != before[t])
                failures.append(f"{where}: refused ({reply.status_code} {text[:80]!r}) but changed {changed}")
            before = after
            if not refused and rule in CREDENTIAL_ROUTES:
                world.refresh()  # the cell may have changed the password or ended the session
                before = None  # taken again before the next cell
        # The premise: the valid fields are valid, so at least one cell of the way got through
        # (the unread-argument cells are the valid request itself).
        if way["refuses_valid"]:
            continue
        if not accepted:
            failures.append(f"{method} {rule}: no cell was accepted, not even the valid request")
    assert cells, rule
    assert not failures, "\n".join(failures[:40]) + f"\n({len(failures)} failing cells)"
    assert time.monotonic() - started < 30, f"{rule}: {time.monotonic() - started:.1f} s"


# ----------------------------------------------------------------------------- items 9 and 10


LONE = "\ud800"
ITEM_9 = [
    ("/user/login", "POST", {"phonenumber": LONE, "password": "x"}),
    ("/item/search", "POST", {"method": "good", "query": LONE}),
    ("/users", "POST", {"username": LONE, "password": "abcdefg", "resetQuestion": "3", "resetAnswer": "happy"}),
    ("/item/add", "POST", {"token": TOKEN, **ITEM_BODY, "title": LONE, "sold": 1}),
    ("/item/modify", "POST", {"token": TOKEN, "itemid": ITEM, "title": LONE}),
    ("/user/modify", "POST", {"token": TOKEN, "username": LONE}),
    ("/user/chat/push", "POST", {"token": TOKEN, "to": BUYER, "type": 1, "data": LONE}),
    ("/users/detail", "POST", {"alias": LONE}),
    ("/products", "POST", {**PRODUCT_BODY, "name": LONE}),
]


@pytest.mark.parametrize(("path", "method", "body"), ITEM_9, ids=[p for p, _, _ in ITEM_9])
def test_item_9_lone_surrogate_is_refused(app, client, world, path, method, body):
    """Issue #11 item 9, exactly: a lone surrogate was a 500 (it cannot be encoded as UTF-8)."""
    body = {key: _resolve(value, world) for key, value in body.items()}
    before = table_snapshot(app)
    reply = client.open(path, method=method, data=json.dumps(body), content_type="application/json")
    text = reply.get_data(as_text=True)
    assert reply.status_code < 500, (path, reply.status_code, text[:200])
    assert not any(leak in text for leak in LEAKS), text[:200]
    assert _refused({"face": "rest" if path.startswith(("/users", "/products")) else "legacy"}, reply), text[:200]
    assert table_snapshot(app) == before
    if not path.startswith(("/users", "/products")):
        # issue #12 item 5: invalid JSON on the legacy face is the old body parser's 400,
        # before any route (so before the token is read)
        assert (reply.status, reply.content_type, reply.data) == (
            "400 Bad Request",
            "text/plain; charset=utf-8",
            b"Bad Request",
        )


PUBLIC_POST = {
    "/user/published",
    "/user/login",
    "/user/register",
    "/user/reset",
    "/user/requirecode",
    "/item/search",
    "/user/mail/verify/<path:token>",
}
LEGACY_TOKEN_ROUTES = sorted(
    rule
    for rule, method in LISTED
    if method == "POST" and rule.startswith(("/user/", "/item/", "/fav/")) and rule not in PUBLIC_POST
)


def test_the_token_route_list_is_complete():
    assert {
        "/user/me",
        "/user/modify",
        "/user/mail/verify",
        "/item/add",
        "/item/image",
        "/fav/query",
        "/user/chat/fetchnew",
        "/user/want/deleteall",
    } <= set(LEGACY_TOKEN_ROUTES)
    assert all("<" not in rule for rule in LEGACY_TOKEN_ROUTES)


@pytest.mark.parametrize("route", LEGACY_TOKEN_ROUTES)
def test_item_10_token_that_is_no_string_is_forbidden(app, client, world, route):
    """Issue #11 item 10, exactly: ``{"token":["x"]}`` was a 500 (unhashable cache key)."""
    before = table_snapshot(app)
    for token in (["x"], {}, [world.token], {"token": world.token}):
        reply = client.post(route, data=json.dumps({"token": token}), content_type="application/json")
        assert (reply.status_code, reply.data) == (403, b"Forbidden"), (route, token)
        assert reply.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert table_snapshot(app) == before


# ----------------------------------------------------------------------------- holes the matrix found


def test_search_size_zero_answers_the_total_without_hits(app, client, world):
    """Found by the matrix: ``size: 0`` was a 500 (Whoosh refuses a limit of 0). Elasticsearch
    answers the total and no hits; so does this."""
    for title in ("二手自行车", "山地自行车", "台灯"):
        reply = client.post("/item/add", json={"token": world.token, **ITEM_BODY, "title": title, "sold": 1})
        assert reply.json["status"] == "success"
    app.extensions["foof.search"].flush(10)
    for method, query in (("good", "自行车"), ("good", "台灯"), ("user", "咸鱼")):
        full = client.post("/item/search", json={"method": method, "query": query}).json
        reply = client.post("/item/search", json={"method": method, "query": query, "size": 0})
        assert reply.status_code == 200, (method, query, reply.data[:200])
        assert reply.json["hits"]["hits"] == []
        assert reply.json["hits"]["total"] == full["hits"]["total"]
    assert client.post("/item/search", json={"method": "good", "query": "自行车", "size": 0}).json["hits"]["total"] == 2


@pytest.mark.parametrize("body", ["{", '{"alias":"\\ud800"}', "[]", '"x"', "1", "null", "[" * 5000])
def test_rest_body_that_is_not_a_json_object_is_refused(app, client, world, body):
    """Found by the matrix: a body that is not a JSON object was read as "no fields", so
    ``POST /users/detail`` answered 200 and touched the profile's update time."""
    before = table_snapshot(app)
    for path, method in (
        ("/users/detail", "POST"),
        ("/products", "POST"),
        (f"/products/{world.item:020d}", "PATCH"),
        ("/users/password", "PATCH"),
    ):
        reply = client.open(path, method=method, data=body, content_type="application/json")
        assert reply.json == {"state": 4005, "message": "输入数据不合法", "data": None}, (path, body)
    assert table_snapshot(app) == before
    # an empty JSON body is still no fields
    assert client.post("/users/detail", data="", content_type="application/json").json["state"] == 200
