"""The secondhand face (``/users``, ``/products``, ``/orders``, ``/alipay``): CONTRACT 2."""
from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from foof.rest import alipay, envelope, openapi, orders, products, users

PREFIXES = ("/users", "/products", "/orders", "/alipay", "/upload")
UPLOAD_LIMIT = 10 * 1024 * 1024  # the original's 10 MiB (state 6001 beyond it)


def init_app(app):
    for blueprint in (users.bp, products.bp, orders.bp, alipay.bp, openapi.bp):
        app.register_blueprint(blueprint)
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")

    @app.before_request
    def _upload_limit():
        if request.endpoint in users.UPLOAD_ENDPOINTS + products.UPLOAD_ENDPOINTS:
            request.max_content_length = UPLOAD_LIMIT
            request.max_form_memory_size = UPLOAD_LIMIT


def is_rest_path(path):
    return path.startswith(PREFIXES)


def too_large():
    return envelope.respond(None, 6001, "上传文件过大！")


__all__ = ["init_app", "is_rest_path", "too_large", "RequestEntityTooLarge"]
