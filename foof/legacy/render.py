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
#: Node's reason phrases (``http.STATUS_CODES`` of Node 10, the old server's runtime): the
#: status line of every legacy reply carries these (``403 Forbidden``, ``413 Payload Too
#: Large``), not werkzeug's upper-case names (``403 FORBIDDEN``).
REASONS = {
    100: "Continue",
    101: "Switching Protocols",
    102: "Processing",
    103: "Early Hints",
    200: "OK",
    201: "Created",
    202: "Accepted",
    203: "Non-Authoritative Information",
    204: "No Content",
    205: "Reset Content",
    206: "Partial Content",
    207: "Multi-Status",
    208: "Already Reported",
    226: "IM Used",
    300: "Multiple Choices",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    304: "Not Modified",
    305: "Use Proxy",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    409: "Conflict",
    410: "Gone",
    411: "Length Required",
    412: "Precondition Failed",
    413: "Payload Too Large",
    414: "URI Too Long",
    415: "Unsupported Media Type",
    416: "Range Not Satisfiable",
    417: "Expectation Failed",
    418: "I'm a teapot",
    421: "Misdirected Request",
    422: "Unprocessable Entity",
    423: "Locked",
    424: "Failed Dependency",
    425: "Unordered Collection",
    426: "Upgrade Required",
    428: "Precondition Required",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    451: "Unavailable For Legal Reasons",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    505: "HTTP Version Not Supported",
    506: "Variant Also Negotiates",
    507: "Insufficient Storage",
    508: "Loop Detected",
    509: "Bandwidth Limit Exceeded",
    510: "Not Extended",
    511: "Network Authentication Required",
}

#: Bodies of the plain-text replies that differ from the reason phrase: the contract keeps
#: ``Request Entity Too Large`` as the 413 body under the status line ``413 Payload Too Large``.
PHRASES = {
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    413: "Request Entity Too Large",
    500: "Internal Server Error",
}


def status_line(code):
    """``"403 Forbidden"``: the code with Node's reason phrase (werkzeug's name for a code
    Node does not name)."""
    reason = REASONS.get(code)
    if reason is None:
        from werkzeug.http import HTTP_STATUS_CODES

        reason = HTTP_STATUS_CODES.get(code, "Unknown")
    return f"{code} {reason}"


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
    str: _string,
    int: int.__repr__,
    float: _float,
    bool: lambda v: "true" if v else "false",
    type(None): lambda v: "null",
    dict: _object,
    list: _array,
    tuple: _array,
    datetime: _date,
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
    """A plain-text reply: 400 Bad Request, 403 Forbidden, 404 Not Found, 413 (body
    ``Request Entity Too Large``), 500; any other code says its reason phrase."""
    line = status_line(status)
    return Response(PHRASES.get(status) or line.partition(" ")[2], status=line, content_type=TEXT_TYPE)


#: WSGI environ key set on every request the legacy face answered (its ``after_request`` hook
#: and the hot path): the server writes that reply's head the way Node did (:func:`node_head`).
NODE_HEAD = "foof.node_head"


def node_head(head, given, closing):
    """A response head written by waitress, rewritten into the old server's header set and order.

    ``head`` is waitress's status line and header block (``bytes``, ending in a blank line),
    ``given`` the header names the app passed to ``start_response`` (in its order),
    ``closing`` whether the connection is closed after this reply. Node's http module wrote
    the application's headers in the order they were set (koa: ``Content-Type``,
    ``Content-Length``), then ``Date``, then ``Connection: keep-alive`` (or ``close``), then
    ``Transfer-Encoding`` when chunked, and no ``Server``. waitress sorts the headers by name,
    adds ``Server``, and says nothing of a kept-alive HTTP/1.1 connection (``Keep-Alive``
    under HTTP/1.0). The status line and every value are kept as waitress wrote them.
    """
    lines = head.decode("latin-1").split("\r\n")
    status, fields = lines[0], [line.split(": ", 1) for line in lines[1:] if line]
    rank = {}
    for name in given:
        rank.setdefault(name.lower(), len(rank))
    last = len(rank)
    tail = {"date": last, "connection": last + 1, "transfer-encoding": last + 2}
    kept = []
    for position, (name, value) in enumerate(fields):
        low = name.lower()
        if low in ("server", "via", "connection"):
            continue
        kept.append((rank.get(low, tail.get(low, last + 3)), position, name, value))
    kept.append((tail["connection"], -1, "Connection", "close" if closing else "keep-alive"))
    kept.sort()
    return ("\r\n".join([status] + [f"{name}: {value}" for _, _, name, value in kept]) + "\r\n\r\n").encode("latin-1")


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
