"""Reading legacy requests: one field reader for urlencoded, JSON and multipart bodies.

The mobile client sends JSON, the browser test forms urlencoded, uploads multipart; a field
reads the same from any of them, and JSON values keep their JSON types. The token comes
from the body field ``token`` or ``Authorization: Bearer``. Errors are mapped to wire
messages here, in one table per route (see :func:`route`).
"""

import functools
import logging

from flask import current_app, g, request
from werkzeug.exceptions import BadRequest

from foof.domain import accounts
from foof.domain.errors import BadToken, DomainError, StorageRejected
from foof.legacy import render

log = logging.getLogger(__name__)

INVALID = {"status": "failure", "info": "invaild request"}  # sic, as the clients expect


def fields():
    """The request's fields as an ordered dict (client order kept; JSON types kept).

    A JSON body that is not a JSON object is :class:`BadRequest` (``400 Bad Request``, the
    old body parser's answer). The face's ``before_request`` hook refuses such bodies before
    any view runs; this covers a body without a length (chunked), read only here."""
    cached = g.get("_legacy_fields")
    if cached is not None:
        return cached
    found = {}
    if request.is_json:
        if request.get_data(cache=True):
            body = request.get_json(silent=True)
            if not isinstance(body, dict):
                raise BadRequest()
            found.update(body)
    else:
        for key in request.form.keys():
            found[key] = request.form.get(key)
    g._legacy_fields = found
    return found


def field(name, default=None):
    return fields().get(name, default)


def token():
    value = fields().get("token")
    if not value:
        header = request.headers.get("Authorization", "")
        if header[:7].lower() == "bearer ":
            value = header[7:].strip()
    return value


def current_user():
    """The caller's user row, or :class:`BadToken`."""
    return accounts.from_login_token(token())


def route(bp, rule, methods=("POST",), auth=False, errors=None):
    """Register a legacy view whose domain errors become replies via ``errors``.

    ``errors`` maps a domain error class to a reply value (rendered by the legacy renderer)
    or to an HTTP status (403 ⇒ the text reply). Lookup follows the exception's MRO, so a
    mapping for a base class covers its subclasses. Anything unmapped is a bug: 500.
    With ``auth`` the view receives the caller's ``User`` first, and a bad token is 403.
    """
    table = {StorageRejected: INVALID}
    table.update(errors or {})

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            try:
                if auth:
                    try:
                        user = current_user()
                    except BadToken:
                        return render.text(403)
                    args = (user,) + args
                result = view(*args, **kwargs)
            except DomainError as exc:
                for klass in type(exc).__mro__:
                    if klass in table:
                        answer = table[klass]
                        return render.text(answer) if isinstance(answer, int) else render.reply(answer)
                raise
            return result if hasattr(result, "status_code") else render.reply(result)

        bp.add_url_rule(rule, view_func=wrapper, methods=list(methods))
        return wrapper

    return decorator


def client_ip():
    return request.remote_addr or ""


def uploaded_files():
    """Every file part in arrival order, whatever its field name (the app repeats ``file``)."""
    return [storage for _, storage in request.files.items(multi=True)]


def media_root():
    return current_app.config["FOOF_MEDIA_ROOT"]
