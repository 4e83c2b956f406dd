"""``GET /openapi.json``: the OpenAPI 3 description of the secondhand face.

The document is held to the URL map in both directions (a route added without its
documentation, or documentation left behind by a removed route, fails here), and real
replies are loaded with the response schemas it is built from, so the shapes cannot drift.
"""

import re

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from foof.rest import openapi, schemas

REST_PREFIXES = ("/users", "/products", "/orders", "/alipay")
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def shape(path):
    """A path with its parameters anonymised: ``/products/<cid>`` and ``/products/{pid}`` →
    ``/products/{}``. OpenAPI forbids two templated paths that differ only in parameter
    names, so the document names ``/products/<cid>`` (GET) and ``/products/<pid>`` (PATCH,
    DELETE) as one ``/products/{id}``."""
    return re.sub(r"\{[^}]+\}", "{}", re.sub(r"<(?:[^:<>]+:)?[^<>]+>", "{}", path))


@pytest.fixture
def spec(client):
    reply = client.get("/openapi.json")
    assert reply.status_code == 200
    assert reply.mimetype == "application/json"
    return reply.get_json()


def test_document_has_the_openapi_3_shape(spec, app):
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] and spec["info"]["version"]
    assert isinstance(spec["paths"], dict) and spec["paths"]
    schemes = spec["components"]["securitySchemes"]
    assert schemes["cookieSession"] == {
        "type": "apiKey",
        "in": "cookie",
        "name": app.config["SESSION_COOKIE_NAME"],
        "description": schemes["cookieSession"]["description"],
    }
    assert schemes["bearerToken"]["type"] == "http" and schemes["bearerToken"]["scheme"] == "bearer"
    for name in (
        "Envelope",
        "RegisterRequest",
        "LoginRequest",
        "UserDetail",
        "ProductListEntry",
        "ProductDetail",
        "OrderEntry",
        "OrderString",
    ):
        assert name in spec["components"]["schemas"]
    assert sorted(spec["components"]["schemas"]["Envelope"]["properties"]["state"]["enum"]) == sorted(schemas.STATES)


def _rest_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(REST_PREFIXES):
            for method in rule.methods - IGNORED_METHODS:
                yield rule.rule, method.lower()


def test_every_rest_route_is_documented(app, spec):
    documented = {
        (shape(path), method)
        for path, operations in spec["paths"].items()
        for method in operations
        if method != "parameters"
    }
    missing = sorted((rule, method) for rule, method in _rest_routes(app) if (shape(rule), method) not in documented)
    assert missing == []
    # Both spellings of the upload routes, as the seed and the corrected clients use them.
    for path in (
        "/users/detial/avatar",
        "/users/detail/avatar",
        "/users/detial/studentcard",
        "/users/detail/studentcard",
    ):
        assert {"post", "patch"} <= set(spec["paths"][path])


def test_every_documented_path_exists(app, spec):
    routes = {}
    for rule in app.url_map.iter_rules():
        routes.setdefault(shape(rule.rule), set()).update(m.lower() for m in rule.methods)
    for path, operations in spec["paths"].items():
        assert shape(path) in routes, path
        assert set(operations) - {"parameters"} <= routes[shape(path)], path


def test_path_parameters_are_declared(spec):
    for path, operations in spec["paths"].items():
        names = set(re.findall(r"\{([^}]+)\}", path))
        for method, op in operations.items():
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == names, (path, method)


def test_every_reference_resolves(spec):
    def refs(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    yield value
                else:
                    yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    found = set(refs(spec))
    assert found
    for ref in found:
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in spec["components"]["schemas"]


def test_document_is_built_once_per_app(app, client, monkeypatch):
    calls = []
    real = openapi.build
    monkeypatch.setattr(openapi, "build", lambda a: calls.append(a) or real(a))
    first, second = client.get("/openapi.json"), client.get("/openapi.json")
    assert first.data == second.data and len(calls) == 1
    assert app.extensions["foof.openapi"] == first.data


# -- the schemas describe the real replies --------------------------------------------------------
def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_real_replies_match_the_response_schemas(app, client, make_user, make_item, token_for):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    app.config.update(
        FOOF_ALIPAY_APP_ID="2021000122612470",
        FOOF_ALIPAY_PRIVATE_KEY=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
        FOOF_ALIPAY_PUBLIC_KEY=key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode(),
    )
    assert (
        client.post(
            "/users", json={"username": "lower111", "password": "123456", "resetQuestion": "3", "resetAnswer": "happy"}
        ).get_json()["state"]
        == 200
    )
    login = client.post("/users/sessions", json={"username": "lower111", "password": "123456"}).get_json()
    schemas.LoginEnvelope().load(login)
    schemas.UserDetailEnvelope().load(client.get("/users/detail").get_json())
    seller, buyer = make_user("13800000001"), make_user("13800000002")
    added = client.post(
        "/products",
        json={
            "name": "卫生纸",
            "category": "00012",
            "description": "剩下4包",
            "location": "1",
            "price": "4",
            "tags": "餐巾纸,卫生纸",
        },
        headers=_bearer(token_for(seller)),
    ).get_json()
    schemas.TextEnvelope().load(added)
    make_item(seller, title="核酸抗原", price=6)
    schemas.ProductListEnvelope().load(client.get("/products").get_json())
    schemas.ProductListEnvelope().load(client.get("/products/12").get_json())
    schemas.ProductDetailEnvelope().load(client.get(f"/products/detail/{added['data']}").get_json())
    schemas.EmptyEnvelope().load(
        client.post(f"/orders/{added['data']}?trans=0", headers=_bearer(token_for(buyer))).get_json()
    )
    bought = client.get("/orders/buy", headers=_bearer(token_for(buyer))).get_json()
    schemas.OrderListEnvelope().load(bought)
    assert len(bought["data"]) == 1
    schemas.OrderListEnvelope().load(client.get("/orders/sell", headers=_bearer(token_for(seller))).get_json())
    info = client.post(
        "/alipay/info", json={"out_trade_no": bought["data"][0]["id"]}, headers=_bearer(token_for(buyer))
    ).get_json()
    schemas.OrderStringEnvelope().load(info)
    refused = client.post("/alipay/info", json={"out_trade_no": "1"}).get_json()
    schemas.EmptyEnvelope().load(refused)
    assert refused["state"] in schemas.STATES


def test_seed_request_examples_load():
    schemas.RegisterRequest().load(
        {"username": "xiaocaomei", "password": "abcdefg", "resetQuestion": "3", "resetAnswer": "happy"}
    )
    schemas.LoginRequest().load({"username": "lower111", "password": "123456"})
    schemas.PasswordChangeRequest().load({"oldPassword": "888888", "newPassword": "123456"})
    schemas.DetailUpdateRequest().load(
        {
            "studentNumber": None,
            "studentCard": None,
            "role": "3",
            "identified": "0",
            "avatar": "/",
            "phoneNumber": "12344556697",
            "email": "114514@163.com",
            "alias": "什么时候能有书读",
            "description": "随缘出",
        }
    )
    schemas.ProductRequest().load(
        {
            "name": "卫生纸",
            "category": "00012",
            "description": "超市买的，剩下4包",
            "location": "1",
            "price": "4",
            "tags": "餐巾纸,卫生纸",
        }
    )
    schemas.AlipayInfoRequest().load(
        {"out_trade_no": "70501111111S001111119", "total_amount": "9.00", "subject": "大乐透233"}
    )
