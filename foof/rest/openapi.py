"""``GET /openapi.json``: an OpenAPI 3 description of the secondhand face, built with apispec.

The paths are written out here rather than discovered, so the document says what each route
means (who may call it, what it returns); ``tests/test_openapi.py`` holds them to the URL map
in both directions, so a route added without documentation fails the suite. The document is
built once per app and served from ``app.extensions``.
"""

import json
from importlib import metadata

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Response, current_app

from foof.rest import schemas

bp = Blueprint("rest_openapi", __name__)
OPENAPI_VERSION = "3.0.3"
JSON_TYPE = "application/json; charset=utf-8"
LOGIN = [{"cookieSession": []}, {"bearerToken": []}]
PUBLIC = []


# -- small builders ------------------------------------------------------------------------------
def path_param(name, description):
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}, "description": description}


def query_param(name, description, required=False, values=None, kind="string"):
    schema = {"type": kind}
    if values:
        schema["enum"] = list(values)
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


def json_body(schema, form=True):
    """JSON, and the same fields as a form — a form only without the session cookie (with a
    Bearer token, or before logging in): cookie-authenticated forms are refused (CSRF)."""
    content = {"application/json": {"schema": schema}}
    if form:
        content["application/x-www-form-urlencoded"] = {"schema": schema}
    return {"required": True, "content": content}


CSRF_NOTE = (
    "Cookie-authenticated POST/PATCH/DELETE requests (the session cookie, no Bearer header) "
    "are refused with state 4004, HTTP 403, when their Origin (or Referer) is not this site, "
    "or when their body is a form (urlencoded, multipart except on uploads, text/plain): send JSON."
)


def upload_body():
    return {"required": True, "content": {"multipart/form-data": {"schema": "Upload"}}}


def envelope_reply(schema, description):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def operation(
    tag,
    summary,
    reply="EmptyEnvelope",
    body=None,
    security=PUBLIC,
    params=(),
    owner=False,
    description=None,
    deprecated=False,
):
    responses = {
        "200": envelope_reply(
            schema=reply,
            description=(
                "The envelope. Handled failures also answer HTTP 200, with their state and message "
                "and `data` null (see the `state` codes of Envelope)."
            ),
        )
    }
    if security:
        responses["401"] = envelope_reply("EmptyEnvelope", "Not logged in (state 4003).")
    if owner:
        responses["403"] = envelope_reply("EmptyEnvelope", "Not your product or order (state 4004).")
    op = {"tags": [tag], "summary": summary, "security": security, "responses": responses}
    if description:
        op["description"] = description
    if body:
        op["requestBody"] = body
    if params:
        op["parameters"] = list(params)
    if deprecated:
        op["deprecated"] = True
    return op


def _upload(tag, summary, deprecated=False, params=(), owner=False):
    """POST and PATCH alike (the seed documents PATCH; browsers' forms can only POST)."""

    def one():
        return operation(
            tag,
            summary,
            reply="TextEnvelope",
            body=upload_body(),
            security=LOGIN,
            params=params,
            owner=owner,
            deprecated=deprecated,
            description="Multipart `file` (≤ FOOF_MAX_PHOTO_UPLOAD_BYTES, default 10 MiB; JPEG/PNG/GIF/WebP/BMP), re-encoded to JPEG "
            "without EXIF. `data` is the stored path under `/upload/`; states 6000-6004.",
        )

    return {"post": one(), "patch": one()}


# -- the routes ----------------------------------------------------------------------------------
PID = path_param("pid", "product id, padded or not")
PAGING = (query_param("page", "from 1", kind="integer"), query_param("size", "1-100, default 20", kind="integer"))


def paths():
    """``{path: operations}`` for every route of rest_users, rest_products, rest_orders, rest_alipay."""
    found = {
        "/users": {
            "post": operation(
                "users",
                "Register",
                body=json_body("RegisterRequest"),
                description="Limited per client address (FOOF_REGISTRATIONS_PER_IP_PER_DAY): "
                "beyond it state 4002 `注册次数过多，请24小时后再试`.",
            )
        },
        "/users/sessions": {
            "post": operation(
                "users",
                "Log in: sets the signed HttpOnly session cookie",
                reply="LoginEnvelope",
                body=json_body("LoginRequest"),
            ),
            "delete": operation("users", "Log out", security=LOGIN),
        },
        "/users/password": {
            "patch": operation("users", "Change the password", body=json_body("PasswordChangeRequest"), security=LOGIN)
        },
        "/users/password/reset": {
            "post": operation(
                "users", "Reset a forgotten password with the reset answer", body=json_body("PasswordResetRequest")
            )
        },
        "/users/detail": {
            "get": operation("users", "My detail", reply="UserDetailEnvelope", security=LOGIN),
            "post": operation("users", "Change my detail", body=json_body("DetailUpdateRequest"), security=LOGIN),
        },
        "/users/detail/avatar": _upload("users", "Upload my avatar"),
        "/users/detail/studentcard": _upload("users", "Upload my student card"),
        # The seed's spelling, still used by the original clients.
        "/users/detial/avatar": _upload("users", "Upload my avatar (seed spelling)", deprecated=True),
        "/users/detial/studentcard": _upload("users", "Upload my student card (seed spelling)", deprecated=True),
        "/upload/{name}": {
            "get": {
                "tags": ["users"],
                "summary": "An uploaded picture; a student card only to its owner and staff",
                "security": [{}] + LOGIN,
                "parameters": [path_param("name", "path under upload/, e.g. p<uuid>.jpg")],
                "responses": {
                    "200": {
                        "description": "The JPEG.",
                        "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
                    },
                    "404": {
                        "description": "Unknown, or someone else's student card (unless the caller is staff).",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                },
            }
        },
        "/products": {
            "get": operation("products", "Products on sale, newest first", reply="ProductListEnvelope", params=PAGING),
            "post": operation(
                "products",
                'Add a product: `data` is its new id, unpadded ("17")',
                reply="TextEnvelope",
                body=json_body("ProductRequest"),
                security=LOGIN,
            ),
        },
        # One templated path for both meanings: OpenAPI forbids /products/{cid} beside /products/{pid}.
        "/products/{id}": {
            "get": operation(
                "products",
                "Products on sale in a category, newest first",
                reply="ProductListEnvelope",
                params=(path_param("id", 'category id, padded ("00012") or not'),) + PAGING,
            ),
            "patch": operation(
                "products",
                "Update my product",
                body=json_body("ProductRequest"),
                security=LOGIN,
                owner=True,
                params=(path_param("id", "product id, padded or not"),),
            ),
            "delete": operation(
                "products",
                "Take my product down",
                security=LOGIN,
                owner=True,
                params=(path_param("id", "product id, padded or not"),),
            ),
        },
        "/products/detail/{pid}": {
            "get": operation(
                "products",
                "A product with its seller",
                reply="ProductDetailEnvelope",
                params=(PID,),
                description="`sellerPhone` only for a logged-in viewer (cookie or Bearer) and only when the seller "
                "published it through the secondhand profile; a deleted product answers 4006.",
            )
        },
        "/products/img/{pid}": _upload("products", "Set my product's picture", params=(PID,), owner=True),
        "/orders/{key}": {
            "post": operation(
                "orders",
                "Buy product `key` (`trans`), or set an order's pay id / express number (`type` + `number`)",
                security=LOGIN,
                owner=True,
                description="With both `type` and `number` present, `key` is an order id: the buyer or seller "
                "sets the express number (type 2) of an open order, and only the seller enters a pay id "
                "by hand (type 1: a payment received outside Alipay; at most 63 characters), once, while "
                "the order has none (4007 otherwise; a pay id from a verified Alipay notice is final). "
                "Otherwise `key` is a product id that the caller buys (not their own, must be on sale); "
                "state 4008 when the caller holds FOOF_MAX_OPEN_ORDERS open orders or placed "
                "FOOF_ORDERS_PER_HOUR orders in the last hour.",
                params=(
                    path_param("key", "product id (buy) or order id (update), padded or not"),
                    query_param("trans", "transaction mode when buying", values=("0", "1")),
                    query_param("type", "1 pay id, 2 express number", values=("1", "2")),
                    query_param("number", "1-64 of A-Z a-z 0-9 _ -"),
                ),
            )
        },
        "/orders/buy": {
            "get": operation("orders", "Orders I bought, newest first", reply="OrderListEnvelope", security=LOGIN)
        },
        "/orders/sell": {
            "get": operation("orders", "Orders I sold, newest first", reply="OrderListEnvelope", security=LOGIN)
        },
        "/orders/state/{order_id}": {
            "post": operation(
                "orders",
                "Cancel (1: product back on sale) or complete (2) an open order",
                security=LOGIN,
                owner=True,
                params=(
                    path_param("order_id", "order id, padded or not"),
                    query_param("state", "1 cancel, 2 complete", required=True, values=("1", "2")),
                ),
            )
        },
        "/alipay/info": {
            "post": operation(
                "alipay",
                "The signed Alipay app-pay orderString for my open, unpaid order",
                reply="OrderStringEnvelope",
                body=json_body("AlipayInfoRequest"),
                security=LOGIN,
                owner=True,
                description="`total_amount` and `subject` are taken from the order and its product, never from "
                "the request. State 4007 when the order is not open or already paid; 5002 when "
                "payments are not configured.",
            )
        },
        "/alipay/response": {
            "post": {
                "tags": ["alipay"],
                "summary": "Alipay's asynchronous notice (called by Alipay, not by clients)",
                "security": PUBLIC,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "additionalProperties": {"type": "string"},
                                "required": [
                                    "sign",
                                    "app_id",
                                    "out_trade_no",
                                    "total_amount",
                                    "trade_status",
                                    "trade_no",
                                ],
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "`success` when the signed notice was verified and processed (a replay "
                        "included), else `failure` (Alipay then retries).",
                        "content": {"text/plain": {"schema": {"type": "string", "enum": ["success", "failure"]}}},
                    }
                },
            }
        },
        "/reports": {
            "post": operation(
                "reports",
                "Report a product or a user to the campus staff",
                body=json_body("ReportRequest"),
                security=LOGIN,
                description="`kind` `product` (a live listing) or `user`; `reason` one of the listed codes; "
                "`note` ≤ 255 characters. Not your own listing or yourself (4005); a missing target is "
                "4006 (product) or 4001 (user). One open report per reporter and target: a second one "
                "is state 4010 until staff resolve the first; at most FOOF_REPORTS_PER_HOUR (10) reports "
                "an hour, beyond that 4011.",
            )
        },
        "/openapi.json": {
            "get": {
                "tags": ["meta"],
                "summary": "This document",
                "security": PUBLIC,
                "responses": {
                    "200": {"description": "OpenAPI 3", "content": {"application/json": {"schema": {"type": "object"}}}}
                },
            }
        },
    }
    return found


def build(app):
    """The OpenAPI document of ``app`` as a dict."""
    try:
        version = metadata.version("foof")
    except metadata.PackageNotFoundError:
        version = "0"
    spec = APISpec(
        title="FOOF secondhand API",
        version=version,
        openapi_version=OPENAPI_VERSION,
        plugins=[MarshmallowPlugin()],
        info={
            "description": "The secondhand face of the FOOF campus marketplace (`/users`, `/products`, "
            '`/orders`, `/alipay`). Every reply is the envelope `{"state","message",'
            '"data"}`; ids are zero-padded strings; paths accept padded or unpadded ids. ' + CSRF_NOTE
        },
        servers=[{"url": str(app.config.get("FOOF_PUBLIC_URL") or "/")}],
        tags=[{"name": name} for name in ("users", "products", "orders", "alipay", "reports", "meta")],
    )
    spec.components.security_scheme(
        "cookieSession",
        {
            "type": "apiKey",
            "in": "cookie",
            "name": app.config.get("SESSION_COOKIE_NAME", "session"),
            "description": "Set by POST /users/sessions (HttpOnly, SameSite=Lax, Secure behind TLS). " + CSRF_NOTE,
        },
    )
    spec.components.security_scheme(
        "bearerToken",
        {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A legacy login token (POST /user/login).",
        },
    )
    for schema in schemas.COMPONENTS:
        spec.components.schema(schema.__name__, schema=schema)
    for path, operations in paths().items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def document(app):
    """The serialised document, built on first use and kept for the app's lifetime."""
    cached = app.extensions.get("foof.openapi")
    if cached is None:
        cached = json.dumps(build(app), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        app.extensions["foof.openapi"] = cached
    return cached


@bp.get("/openapi.json")
def serve():
    return Response(document(current_app._get_current_object()), content_type=JSON_TYPE)
