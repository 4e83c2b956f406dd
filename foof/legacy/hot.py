"""The three requests the mobile app makes most, answered without Flask's request cycle.

``GET /item/<id>``, ``GET /user/<uuid>`` and ``POST /user/chat/fetchnew`` (the app polls it)
are most of the traffic; ``POST /fav/query`` (the app's favourites page) and the REST face's
``GET /products`` (the first page every client lists) are the lists read most. Measured under waitress with 8 threads (``bench/http.py``), Flask's
request/response cycle cost more than the work itself: building the request, two URL
adapters, the session, hooks, the response object. This WSGI layer answers the *plain form*
of those three requests itself, calling the same view functions (the undecorated ones) and
the same renderer as the Flask routes (fetchnew: ``messaging.poll``, which checks the token's
account, its last password change — a token issued before it is refused — and waiting
messages in one read, and the route's reply builder). ``GET /item`` and ``GET /user`` take
no token. ``/fav/query``: the token's user (one read, ``accounts.from_login_token``) and the
route's view. ``GET /products`` without a query string, a cookie or an ``Authorization``
header: the REST face offers its answer in ``app.extensions[HOT_READS]`` (this face may not
import that one), and its reply keeps waitress's head.
:meth:`HotPath.answer` is the same work as a function of the environ that never writes, for
``foof.serving`` to run on waitress's I/O thread.

Anything else goes to Flask untouched, so the Flask route stays the one definition of every
other case: another method, a query string, an id that is not a plain positive integer, a
GET with a body, a body that is not a small urlencoded or JSON object with a string ``token``
(invalid JSON or JSON that is no object: Flask answers the face's ``400 Bad Request``), a
refused token,
any domain error (the route maps it; the reads are simply run again) or any exception. The
answers are byte-for-byte the Flask route's (``tests/test_hot_path.py`` compares them).
"""

import io
import re
import time
from urllib.parse import parse_qsl

from foof import accesslog
from foof.domain import passwords, reads
from foof.legacy import render

_PLAIN_ID = re.compile(r"[1-9][0-9]{0,8}\Z")  # always inside the 32-bit id range
_MAX_BODY = 4096  # a token form is ~200 bytes; anything bigger is left to Flask


#: ``app.extensions`` key: exact GET paths of the REST face answered here -> a function
#: returning ``(status, headers, body)`` (foof/rest/products.py offers ``/products``).
HOT_READS = "foof.hot_reads"

_STARTED = "foof.hot.started"  # when the first attempt at an answer began (the access log's time)

#: WSGI environ key of an answer computed before the request reached the app
#: (``foof.serving`` answers on waitress's I/O thread and passes the answer along).
ANSWER = "foof.answer"


class HotPath:
    """WSGI middleware in front of the legacy face (see the module docstring)."""

    def __init__(self, app, wsgi_app):
        from foof.domain import accounts, messaging
        from foof.legacy import chat, fav, item, user

        self.app, self.next = app, wsgi_app
        item_view, user_view = item.query.__wrapped__, user.public.__wrapped__
        # GET /<first segment, lower-cased>/<id> -> (rule for the access log, handler)
        self.reads = {
            "item": ("/item/<itemid>", lambda itemid, _take: item_view(itemid)),
            "user": ("/user/<uuid>", lambda uuid, _take: user_view(uuid)),
        }
        # POST /<path, lower-cased> with a token body -> (rule, handler of the token)
        self.token_reads = {
            "/user/chat/fetchnew": ("/user/chat/fetchnew", self._fetch),
            "/fav/query": ("/fav/query", self._favourites),
        }
        self._reply = chat.new_messages
        self._poll = messaging.poll
        self._user_of = accounts.from_login_token
        self._favourites_view = fav.query.__wrapped__

    def __call__(self, environ, start_response):
        answer = environ.pop(ANSWER, None) or self.answer(environ)
        if answer is None:
            return self.next(environ, start_response)
        status, headers, body, rule, started, legacy = answer
        if legacy:
            environ[render.NODE_HEAD] = True
        start_response(status, headers)
        if accesslog.enabled():
            accesslog.write(environ.get("REMOTE_ADDR", ""), environ["REQUEST_METHOD"], rule, 200, started)
        return [body]

    def answer(self, environ, take=True, results=None):
        """``(status, headers, body, rule, started, legacy)`` for a request answered here,
        else None (Flask's route answers it). With ``take=False`` nothing is written: a
        fetchnew poll that finds messages waiting is declined instead of taking them.
        ``legacy``: the reply is the legacy face's (its head written the Node way).

        With ``results`` (a dict) the reads answer from it, and the first read not in it
        raises :class:`foof.domain.reads.Deferred` (see ``reads.deferring``): the caller
        (waitress's I/O thread) sends that read without waiting and calls again with its
        result added."""
        started = environ.setdefault(_STARTED, time.perf_counter())
        plan = self._plan(environ)
        if plan is None:
            return None
        rule, handler, argument, legacy = plan
        try:
            with self.app.app_context():
                if results is None:
                    value = handler(argument, take)
                else:
                    with reads.deferring(results):
                        value = handler(argument, take)
            if value is None:
                return None
            status, headers, body = render.wsgi_reply(value) if legacy else value
        except reads.Deferred:
            raise
        except Exception:  # noqa: BLE001 - Flask's route maps domain errors and reports bugs
            return None
        passwords.traffic.note()  # other traffic: the spare hash threads pause while it flows
        return status, headers, body, rule, started, legacy

    def _plan(self, environ):
        """``(rule, handler, argument, legacy)`` for a request served here, else None."""
        if environ.get("QUERY_STRING"):
            return None
        path = environ.get("PATH_INFO", "")
        if len(path) > 1 and path.endswith("/"):
            path = path[:-1]
        method = environ.get("REQUEST_METHOD")
        if method == "GET":
            if environ.get("CONTENT_LENGTH", "") not in ("", "0") or environ.get("HTTP_TRANSFER_ENCODING"):
                return None  # a GET with a body: Flask applies the face's body rules (400)
            parts = path.split("/")
            if len(parts) == 3 and parts[0] == "":
                read = self.reads.get(parts[1].lower())
                if read is not None and _PLAIN_ID.match(parts[2]):
                    return read[0], read[1], parts[2], True
                return None
            # Another face's plain reads (GET /products), offered through app.extensions. A
            # request with credentials goes to Flask: the REST face may refresh its cookie.
            if environ.get("HTTP_COOKIE") or environ.get("HTTP_AUTHORIZATION"):
                return None
            offered = self.app.extensions.get(HOT_READS)
            lowered = path.lower()
            if offered and lowered in offered:
                page = offered[lowered]
                return lowered, lambda _argument, _take: page(), None, False
            return None
        if method == "POST":
            read = self.token_reads.get(path.lower())
            if read is not None:
                token = _body_token(environ, self.app.json.loads)
                if token is not None:
                    return read[0], read[1], token, True
        return None

    def _fetch(self, token, take):
        # One read checks the account and waiting messages; BadToken: Flask answers the 403.
        shown = self._poll(token, take)
        return None if shown is None else self._reply(shown)

    def _favourites(self, token, _take):
        # The route's view with the token's user (one read); BadToken: Flask answers the 403.
        return self._favourites_view(self._user_of(token))


def _body_token(environ, loads):
    """The ``token`` field of a small urlencoded or JSON body (JSON read by ``loads``, the
    app's JSON provider), or None (then Flask reads it: the body is put back for it)."""
    length = environ.get("CONTENT_LENGTH") or ""
    if not length.isdigit() or int(length) > _MAX_BODY:
        return None
    ctype = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
    if ctype not in ("application/x-www-form-urlencoded", "application/json"):
        return None
    body = environ["wsgi.input"].read(int(length))
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    if not body.isascii():
        return None
    if ctype == "application/json":
        try:
            fields = loads(body)
        except ValueError:  # the app's provider also turns too-deep nesting into this
            return None
        token = fields.get("token") if isinstance(fields, dict) else None
    else:
        token = next(
            (value for key, value in parse_qsl(body.decode("ascii"), keep_blank_values=True) if key == "token"), None
        )
    return token if isinstance(token, str) and token else None
