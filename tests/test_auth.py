"""Tokens (docs/legacy-wire.md §3): every token route refuses bad tokens with 403 ``Forbidden``."""

import base64
import json
import time

import jwt as pyjwt
import pytest
from sqlalchemy import delete

from foof.extensions import db
from foof.models import User
from tests.conftest import JWT_SECRET

#: Legacy POST routes that need no token; every other legacy POST route must refuse a bad one.
PUBLIC_POST = {
    "/user/published",
    "/user/login",
    "/user/register",
    "/user/reset",
    "/user/requirecode",
    "/item/search",
    # the mail link's confirm button: authorised by the mail token in its path
    "/user/mail/verify/<path:token>",
}
LEGACY_PREFIXES = ("/user/", "/item/", "/fav/")


def _token_routes():
    from foof import create_app

    app = create_app(
        {
            "FOOF_INSTANCE_PATH": "/tmp/foof-route-listing",
            "FOOF_DATABASE_URL": "sqlite://",
            "FOOF_JWT_SECRET": JWT_SECRET,
            "FOOF_SECRET_KEY": "x",
        }
    )
    routes = sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and rule.rule.startswith(LEGACY_PREFIXES) and rule.rule not in PUBLIC_POST
    )
    return routes


#: Every legacy route that needs a login token, read from the URL map so none is forgotten.
TOKEN_ROUTES = _token_routes()


def test_the_route_list_is_complete():
    assert {"/user/me", "/user/finished", "/user/avatar", "/user/modify", "/user/mail/verify"} <= set(TOKEN_ROUTES)
    assert "/item/add" in TOKEN_ROUTES and "/fav/query" in TOKEN_ROUTES and "/user/chat/fetchnew" in TOKEN_ROUTES


def _sign(payload, secret=JWT_SECRET):
    return pyjwt.encode(payload, secret, algorithm="HS256")


def _bad_tokens(app, uuid):
    now = int(time.time())
    none_alg = (
        base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=").decode()
        + "."
        + base64.urlsafe_b64encode(json.dumps({"uuid": uuid}).encode()).rstrip(b"=").decode()
        + "."
    )
    return {
        "missing": None,
        "empty": "",
        "garbage": "not-a-token",
        "wrong-secret": _sign(
            {"uuid": uuid, "generate": now * 1000, "iat": now}, "another-secret-of-at-least-32-bytes!!"
        ),
        "expired": _sign({"uuid": uuid, "generate": (now - 100) * 1000, "iat": now - 100, "exp": now - 10}),
        "mail-only": _sign({"uuid": uuid, "generate": now * 1000, "iat": now, "useage": "mail", "exp": now + 1800}),
        "alg-none": none_alg,
        "uuid-as-string": _sign({"uuid": str(uuid), "generate": now * 1000, "iat": now}),
        "no-uuid": _sign({"generate": now * 1000, "iat": now}),
    }


BAD_KINDS = [
    "missing",
    "empty",
    "garbage",
    "wrong-secret",
    "expired",
    "mail-only",
    "alg-none",
    "uuid-as-string",
    "no-uuid",
    "deleted-user",
]


@pytest.mark.parametrize("route", TOKEN_ROUTES)
@pytest.mark.parametrize("kind", BAD_KINDS)
def test_bad_token_is_forbidden(app, client, user, route, kind):
    uuid, good = user
    if kind == "deleted-user":
        token = good
        with app.app_context():
            db.session.execute(delete(User).where(User.uuid == uuid))
            db.session.commit()
    else:
        token = _bad_tokens(app, uuid)[kind]
    data = {} if token is None else {"token": token}
    reply = client.post(route, data=data)
    assert reply.status_code == 403
    assert reply.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert reply.data == b"Forbidden"


def test_old_server_token_without_exp_is_accepted(client, user):
    """A token signed the way the koa server did (HS256 over {uuid, generate, iat}, no exp)."""
    uuid, _ = user
    now = int(time.time())
    legacy = _sign({"uuid": uuid, "generate": now * 1000, "iat": now})
    reply = client.post("/user/me", data={"token": legacy})
    assert reply.json["uuid"] == uuid and reply.json["status"] == "success"


def test_bearer_header_and_json_body(client, user):
    uuid, token = user
    assert client.post("/user/me", headers={"Authorization": f"Bearer {token}"}).json["uuid"] == uuid
    assert client.post("/user/me", json={"token": token}).json["uuid"] == uuid


def test_new_token_has_exactly_the_legacy_claims(client, make_user):
    make_user("5", "pw")
    token = client.post("/user/login", data={"phonenumber": "5", "password": "pw"}).json["token"]
    header, payload, _ = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    assert base64.urlsafe_b64decode(pad(header)) == b'{"alg":"HS256","typ":"JWT"}'
    claims = json.loads(base64.urlsafe_b64decode(pad(payload)))
    assert list(claims) == ["uuid", "generate", "iat", "exp"]
    assert claims["exp"] - claims["iat"] == 30 * 86400
    assert abs(claims["generate"] - claims["iat"] * 1000) < 1000


def test_ttl_zero_means_no_exp(config, make_user):
    from foof import create_app

    config["FOOF_TOKEN_TTL_DAYS"] = 0
    app = create_app(config)
    with app.app_context():
        from foof.domain import tokens

        claims = pyjwt.decode(tokens.login_token(7), JWT_SECRET, algorithms=["HS256"])
    assert "exp" not in claims
