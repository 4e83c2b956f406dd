"""The one legacy renderer: every byte the legacy face sends goes through here.

The old server was koa: ``JSON.stringify`` output, so compact separators, raw UTF-8, ``/``
unescaped, integral floats without a fraction (``987`` not ``987.0``) and JavaScript's
exponent rules; ``Date`` objects as ``2019-09-04T14:29:05.000Z``. Key order is the order of
the mapping given (column order for rows, see :func:`row`).
"""
import json
import math
from datetime import datetime

from flask import Response

JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
PHRASES = {
    403: "Forbidden",
    404: "Not Found",
    413: "Request Entity Too Large",
    500: "Internal Server Error",
}

_string = json.JSONEncoder(ensure_ascii=False).encode


def js_number(value):
    """``Number.prototype.toString`` for a finite float (ECMA-262 7.1.12.1)."""
    if value == 0:
        return "0"
    if value < 0:
        return "-" + js_number(-value)
    digits, exponent = _shortest(value)
    k = len(digits)
    n = exponent + k  # value = 0.digits × 10^n
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    sign = "+" if n - 1 >= 0 else "-"
    mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{mantissa}e{sign}{abs(n - 1)}"


def _shortest(value):
    """Shortest round-tripping decimal digits and exponent: value = int(digits) × 10^exp."""
    mantissa, _, exp = repr(value).partition("e")
    exponent = int(exp) if exp else 0
    whole, _, fraction = mantissa.partition(".")
    if fraction == "0":
        fraction = ""
    digits = (whole + fraction).lstrip("0")
    exponent -= len(fraction)
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    return stripped or "0", exponent


def js_date(value):
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def dumps(value):
    """``JSON.stringify(value)`` as koa sent it."""
    exact = _BY_TYPE.get(type(value))  # one lookup for the usual types; subclasses below
    if exact is not None:
        return exact(value)
    if value is None or value is True or value is False:
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, datetime):
        return _date(value)
    if isinstance(value, dict):
        return _object(value)
    if isinstance(value, (list, tuple)):
        return _array(value)
    raise TypeError(f"cannot render {type(value).__name__}")


def _float(value):
    return js_number(value) if math.isfinite(value) else "null"


def _date(value):
    return '"' + js_date(value) + '"'


_KEYS = {}  # rendered object keys; bounded, since echoed client keys are arbitrary


def _key(name):
    rendered = _KEYS.get(name)
    if rendered is None:
        rendered = _string(str(name))
        if len(_KEYS) < 512:
            _KEYS[name] = rendered
    return rendered


def _object(value):
    return "{" + ",".join([_key(k) + ":" + dumps(v) for k, v in value.items()]) + "}"


def _array(value):
    return "[" + ",".join([dumps(v) for v in value]) + "]"


_BY_TYPE = {
    str: _string, int: int.__repr__, float: _float, bool: lambda v: "true" if v else "false",
    type(None): lambda v: "null", dict: _object, list: _array, tuple: _array, datetime: _date,
}


def reply(value):
    """A handled legacy reply: HTTP 200 with the JSON of ``value``."""
    return Response(dumps(value), status=200, content_type=JSON_TYPE)


def wsgi_reply(value):
    """:func:`reply` for a plain WSGI caller (the hot path): the same status, headers and
    bytes as the Response that :func:`reply` builds."""
    body = dumps(value).encode("utf-8")
    return "200 OK", [("Content-Type", JSON_TYPE), ("Content-Length", str(len(body)))], body


def text(status):
    """The plain-text replies (403 Forbidden, 404 Not Found, 413, 500)."""
    return Response(PHRASES[status], status=status, content_type=TEXT_TYPE)


def html(body, status=200):
    return Response(body, status=status, content_type="text/html; charset=utf-8")


def row(model, columns=None, **extra):
    """A row as an ordered mapping in table column order (``from``/``to`` by column name).

    ``model`` is an ORM object or a Core row of a whole-table select (read-only fast path).
    """
    mapping = getattr(model, "_mapping", None)
    if mapping is not None:
        out = {k: v for k, v in mapping.items() if columns is None or k in columns}
        out.update(extra)
        return out
    out = {}
    for column in model.__table__.columns:
        if columns is None or column.name in columns:
            out[column.name] = getattr(model, model.__mapper__.get_property_by_column(column).key)
    out.update(extra)
    return out
