"""The legacy wire's own rules (issue #12 items 5 and 6).

Item 5: a JSON body that is not a JSON object — invalid JSON, an array, a string, a number,
``true``/``false``/``null``, text holding a lone surrogate — is answered as the old server's
body parser answered it, before any route ran: ``400 Bad Request``, ``text/plain;
charset=utf-8``, body ``Bad Request`` (also on token routes: not 403), nothing written. The
hot path (foof/legacy/hot.py) gives the same answer by handing such requests to Flask.

Item 6: legacy status lines carry Node's reason phrases (``403 Forbidden``, ``404 Not Found``,
``413 Payload Too Large``, ``400 Bad Request``, ``500 Internal Server Error``, ``200 OK``),
checked with the test client, on the hot path, and through a real waitress server read with
a raw socket; the REST face keeps its own. The header set and order (``Content-Type,
Content-Length, Date, Connection: keep-alive``, no ``Server``) is written by
:func:`foof.legacy.render.node_head`, which the server calls for legacy replies.
"""

import io
import json
import socket
import threading

import pytest
import waitress.server
from waitress.channel import HTTPChannel
from waitress.task import WSGITask
from werkzeug.test import Client

from foof import serving
from foof.legacy import render
from foof.legacy.hot import HotPath
from tests.conftest import table_snapshot

TEXT = "text/plain; charset=utf-8"
JSON = "application/json; charset=utf-8"

#: Bodies that parse to something other than a JSON object, or do not parse.
NOT_OBJECTS = {
    "malformed": b'{"phonenumber":',
    "garbage": b"phonenumber=13800000001",
    "whitespace": b"  \n",
    "array": b'[{"token":"TOKEN"}]',
    "empty array": b"[]",
    "string": b'"abc"',
    "number": b"1",
    "true": b"true",
    "false": b"false",
    "null": b"null",
    "lone surrogate": b'{"token":"TOKEN","data":"\\ud800"}',
    "lone surrogate key": b'{"\\udfff":1}',
    "nested too deep": b"[" * 50_000,
    "not utf-8": b'{"username":"\xff\xfe"}',
    # JavaScript's JSON.parse (the old server's) refuses these; Python's would read floats
    "NaN": b'{"token":"TOKEN","info":NaN}',
    "Infinity": b'{"token":"TOKEN","address":Infinity}',
    "-Infinity": b'{"token":"TOKEN","address":-Infinity}',
}


def legacy_routes(app):
    """(method, path) of every legacy route that takes a body, from the URL map."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("rest_") or "POST" not in rule.methods:
            continue
        out.append(("POST", rule.rule.replace("<path:token>", "abc")))
    assert len(out) >= 25
    return sorted(out)


@pytest.fixture
def world(app, make_user, make_item, token_for):
    seller, buyer = make_user("13800000001", "pw"), make_user("13800000002", "pw")
    make_item(seller)
    return {"seller": seller, "buyer": buyer, "token": token_for(seller), "buyer_token": token_for(buyer)}


def _bad_request(reply):
    return (reply.status, reply.content_type, reply.get_data()) == ("400 Bad Request", TEXT, b"Bad Request")


def test_every_legacy_route_answers_400_to_a_json_body_that_is_not_an_object(app, client, world):
    before = table_snapshot(app)
    wrong = []
    for method, path in legacy_routes(app):
        for label, body in NOT_OBJECTS.items():
            body = body.replace(b"TOKEN", world["token"].encode())
            reply = client.open(path, method=method, data=body, content_type="application/json")
            if not _bad_request(reply):
                wrong.append((path, label, reply.status, reply.get_data()[:80]))
    assert not wrong, wrong
    assert table_snapshot(app) == before


def test_a_json_type_with_parameters_or_suffix_is_json_too(client, world):
    for ctype in ("application/json; charset=utf-8", "application/vnd.api+json", "APPLICATION/JSON"):
        reply = client.post("/user/me", data=f'["{world["token"]}"]', content_type=ctype)
        assert _bad_request(reply), ctype


def test_unknown_paths_and_gets_with_a_bad_json_body_are_400_too(client, world):
    """The old body parser ran before the router: an unknown path or a GET with such a body
    never reached a route either."""
    for method, path in (
        ("POST", "/user/nope"),
        ("POST", "/"),
        ("GET", "/item/1"),
        ("GET", "/user/1"),
        ("GET", "/recommend/1"),
        ("PUT", "/item/add"),
    ):
        reply = client.open(path, method=method, data=b'{"a":', content_type="application/json")
        assert _bad_request(reply), (method, path, reply.status)


def test_an_empty_json_body_is_no_fields(client, world):
    reply = client.post("/user/login", data=b"", content_type="application/json")
    assert (reply.status, reply.get_data()) == ("200 OK", b'{"status":"failure","info":"bad request"}')
    reply = client.post("/user/me", data=b"", content_type="application/json")
    assert (reply.status, reply.get_data()) == ("403 Forbidden", b"Forbidden")


def test_a_json_object_is_read_as_before(client, world):
    reply = client.post("/user/me", data=json.dumps({"token": world["token"]}), content_type="application/json")
    assert reply.status == "200 OK" and json.loads(reply.get_data())["uuid"] == world["seller"]
    reply = client.post("/user/login", data=b'{"phonenumber":"13800000001"}', content_type="application/json")
    assert reply.get_data() == b'{"status":"failure","info":"bad request"}'


def test_a_chunked_json_body_that_is_not_an_object_is_400(client, world):
    """No Content-Length: the body is read (within its limit) by the field reader, which
    applies the same rule."""
    for body in (b"[1]", b'{"token":', f'"{world["token"]}"'.encode()):
        reply = client.post(
            "/user/me",
            input_stream=io.BytesIO(body),
            headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
            environ_overrides={"wsgi.input_terminated": True},
        )
        assert _bad_request(reply), (body, reply.status, reply.get_data())


def test_a_bad_json_body_over_the_limit_is_413_first(app, client, world):
    body = b"[" + b"1," * (app.config["FOOF_MAX_UPLOAD_BYTES"] // 2) + b"1]"
    before = table_snapshot(app)
    reply = client.post("/user/login", data=body, content_type="application/json")
    assert (reply.status, reply.content_type, reply.get_data()) == (
        "413 Payload Too Large",
        TEXT,
        b"Request Entity Too Large",
    )
    assert table_snapshot(app) == before


def test_the_rest_face_keeps_its_own_answer(client):
    reply = client.post("/users/sessions", data=b'{"username":', content_type="application/json")
    assert reply.status_code == 200 and json.loads(reply.get_data())["state"] == 4005


def test_the_hot_path_hands_bad_json_polls_to_flask(app, client, world):
    """The hot path reads fetchnew's JSON body itself; for a body that is not an object it
    declines, and the answer is Flask's 400 — through the hot path, without it, and on the
    waitress I/O thread's entry point."""
    hot = app.extensions["foof.hot_path"]
    assert isinstance(hot, HotPath)
    flask_only = Client(hot.next)
    for label, body in NOT_OBJECTS.items():
        body = body.replace(b"TOKEN", world["token"].encode())
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/user/chat/fetchnew",
            "QUERY_STRING": "",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
        }
        assert hot.answer(environ, take=False) is None, label
        for each in (client, flask_only):
            reply = each.post("/user/chat/fetchnew", data=body, content_type="application/json")
            assert _bad_request(reply), (label, reply.status, reply.get_data()[:80])
    # a GET the hot path would answer, but with a body: Flask's rule
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/item/1",
        "QUERY_STRING": "",
        "CONTENT_LENGTH": "2",
        "CONTENT_TYPE": "application/json",
        "wsgi.input": io.BytesIO(b"[]"),
    }
    assert hot.answer(environ, take=False) is None
    good = client.post(
        "/user/chat/fetchnew", data=json.dumps({"token": world["token"]}), content_type="application/json"
    )
    assert (good.status, good.get_data()) == ("200 OK", b'{"status":"success","data":[]}')


# -- item 6: reason phrases -------------------------------------------------------------


def test_legacy_status_lines_carry_node_reason_phrases(app, client, world, monkeypatch):
    cases = [
        (client.post("/user/me", data={"token": "bad"}), "403 Forbidden", b"Forbidden"),
        (client.get("/nope"), "404 Not Found", b"Not Found"),
        (client.put("/item/add"), "404 Not Found", b"Not Found"),
        (client.get("/image/item/missing.jpg"), "404 Not Found", b"Not Found"),
        (
            client.post(
                "/user/login",
                data=b"x" * (app.config["FOOF_MAX_UPLOAD_BYTES"] + 1),
                content_type="application/x-www-form-urlencoded",
            ),
            "413 Payload Too Large",
            b"Request Entity Too Large",
        ),
        (client.post("/user/login", data=b"[", content_type="application/json"), "400 Bad Request", b"Bad Request"),
        (client.post("/user/login", data={"phonenumber": "1"}), "200 OK", None),
        (client.get("/item/1"), "200 OK", None),
        (client.get("/item/1?x=1"), "200 OK", None),  # Flask's route, not the hot path
    ]
    for reply, line, body in cases:
        assert reply.status == line, (line, reply.status)
        if body is not None:
            assert (reply.content_type, reply.get_data()) == (TEXT, body)
    from foof.legacy import user

    def crash(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(user.accounts, "login", crash)
    reply = client.post("/user/login", data={"phonenumber": "13800000001", "password": "pw"})
    assert (reply.status, reply.content_type, reply.get_data()) == (
        "500 Internal Server Error",
        TEXT,
        b"Internal Server Error",
    )


def test_media_status_lines_follow_node_too(app, client):
    with client.get("/image/item/default.jpg") as reply:
        assert reply.status == "200 OK"
        etag = reply.headers.get("ETag")
    assert etag
    with client.get("/image/item/default.jpg", headers={"If-None-Match": etag}) as again:
        assert again.status == "304 Not Modified"


def test_the_rest_face_keeps_werkzeug_status_lines(client):
    reply = client.get("/users/nope")
    assert reply.status_code == 404 and reply.status != "404 Not Found", reply.status


def test_node_status_line_table():
    assert render.status_line(413) == "413 Payload Too Large"
    assert render.status_line(414) == "414 URI Too Long"
    assert render.status_line(416) == "416 Range Not Satisfiable"
    assert render.status_line(431) == "431 Request Header Fields Too Large"
    assert render.status_line(599) == "599 Unknown"


# -- item 6 through a real waitress server, raw socket -------------------------------------


def raw_exchange(port, request, replies=1):
    """Send ``request`` bytes, read ``replies`` responses (Content-Length framed; a reply to
    HEAD has no body): a list of (status line, [(name, value), ...], body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        buffer, out = b"", []
        while len(out) < replies:
            while b"\r\n\r\n" not in buffer:
                chunk = sock.recv(65536)
                assert chunk, ("connection closed", buffer)
                buffer += chunk
            head, buffer = buffer.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            headers = [tuple(line.split(": ", 1)) for line in lines[1:]]
            length = int(dict((k.lower(), v) for k, v in headers).get("content-length", 0))
            if request.startswith(b"HEAD "):
                length = 0
            while len(buffer) < length:
                chunk = sock.recv(65536)
                assert chunk
                buffer += chunk
            body, buffer = buffer[:length], buffer[length:]
            out.append((lines[0], headers, body))
        return out


def http_request(method, path, body=b"", ctype=None, extra=""):
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}"
    if ctype:
        head += f"Content-Type: {ctype}\r\n"
    if body or method == "POST":
        head += f"Content-Length: {len(body)}\r\n"
    return head.encode("latin-1") + b"\r\n" + body


class Served:
    def __init__(self, app, inline, channel_class=None):
        self.server = serving.create_server(app, "127.0.0.1", 0, threads=2, inline=inline)
        if channel_class is not None:
            for listener in serving._listeners(self.server):
                listener.channel_class = channel_class
        self.port = self.server.effective_port
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.task_dispatcher.shutdown(timeout=5)
        self.server.trigger.pull_trigger(lambda: waitress.server.wasyncore.close_all(self.server._map))
        self.thread.join(10)
        assert not self.thread.is_alive()


@pytest.fixture
def served(app):
    started = []

    def start(inline, channel_class=None):
        started.append(Served(app, inline, channel_class))
        return started[-1]

    yield start
    for each in started:
        each.stop()


def _wire_cases(token):
    form = "application/x-www-form-urlencoded"
    return [
        (http_request("GET", "/item/1"), "HTTP/1.1 200 OK"),  # hot path
        (http_request("GET", "/user/1"), "HTTP/1.1 200 OK"),  # hot path
        (http_request("POST", "/user/chat/fetchnew", f"token={token}".encode(), form), "HTTP/1.1 200 OK"),
        (http_request("POST", "/user/chat/fetchnew", b"token=bad", form), "HTTP/1.1 403 Forbidden"),
        (http_request("POST", "/user/chat/fetchnew", b'["x"]', "application/json"), "HTTP/1.1 400 Bad Request"),
        (http_request("POST", "/user/login", b'{"phonenumber":', "application/json"), "HTTP/1.1 400 Bad Request"),
        (http_request("GET", "/nope"), "HTTP/1.1 404 Not Found"),
        (http_request("GET", "/item/999999"), "HTTP/1.1 200 OK"),
        (http_request("POST", "/user/login", b"phonenumber=1", form), "HTTP/1.1 200 OK"),
    ]


@pytest.mark.parametrize("inline", [True, False], ids=["io-thread", "workers"])
def test_reason_phrases_through_waitress(app, world, served, inline):
    server = served(inline)
    for request, line in _wire_cases(world["buyer_token"]):
        [(status, _headers, _body)] = raw_exchange(server.port, request)
        assert status == line, (request[:60], status)
    too_big = http_request(
        "POST", "/user/login", b"x" * (app.config["FOOF_MAX_UPLOAD_BYTES"] + 1), "application/x-www-form-urlencoded"
    )
    [(status, _headers, body)] = raw_exchange(server.port, too_big)
    assert (status, body) == ("HTTP/1.1 413 Payload Too Large", b"Request Entity Too Large")


class NodeHeadTask(WSGITask):
    """The change proposed for foof/serving.py's tasks (see the module docstring): a legacy
    reply's head as Node wrote it."""

    def build_response_header(self):
        given = [name for name, _ in self.response_headers]
        head = super().build_response_header()
        if self.environ is not None and self.environ.get(render.NODE_HEAD):
            head = render.node_head(head, given, self.close_on_finish)
        return head


class NodeHeadChannel(HTTPChannel):
    task_class = NodeHeadTask


LEGACY_ORDER = ["Content-Type", "Content-Length", "Date", "Connection"]


def _check_legacy_heads(port, token):
    for request, line in _wire_cases(token):
        [(status, headers, body)] = raw_exchange(port, request)
        assert status == line
        assert [name for name, _ in headers] == LEGACY_ORDER, (request[:50], headers)
        values = dict(headers)
        assert values["Connection"] == "keep-alive" and values["Content-Length"] == str(len(body))
    # pipelined on one connection: every head is the legacy one, the connection stays open
    replies = raw_exchange(port, b"".join(request for request, _ in _wire_cases(token)), replies=9)
    assert [[name for name, _ in headers] for _, headers, _ in replies] == [LEGACY_ORDER] * 9
    # HEAD keeps its Content-Length (Node sent it), a client asking to close gets "close"
    [(status, headers, body)] = raw_exchange(port, http_request("HEAD", "/user/1"))
    assert [name for name, _ in headers] == LEGACY_ORDER and body == b"" and int(dict(headers)["Content-Length"]) > 0
    [(status, headers, _)] = raw_exchange(port, http_request("GET", "/user/1", extra="Connection: close\r\n"))
    assert headers[-1] == ("Connection", "close") and [name for name, _ in headers] == LEGACY_ORDER
    # HTTP/1.0 keep-alive: Node's lower-case "keep-alive", not waitress's "Keep-Alive"
    [(status, headers, _)] = raw_exchange(port, b"GET /user/1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    assert status == "HTTP/1.0 200 OK" and headers[-1] == ("Connection", "keep-alive")


def test_node_head_through_a_waitress_task(app, world, served):
    """render.node_head with waitress 3's own task (workers; the I/O-thread channel of
    foof.serving builds its own tasks, covered once serving.py uses the same task)."""
    server = served(False, NodeHeadChannel)
    _check_legacy_heads(server.port, world["buyer_token"])
    # the REST face keeps waitress's head
    [(status, headers, _)] = raw_exchange(server.port, http_request("GET", "/products"))
    assert status == "HTTP/1.1 200 OK" and ("Server", "foof") in headers


def test_serving_writes_legacy_heads():
    """foof/serving.py serves every request through a waitress task that rewrites the head
    (NodeHeadTask), on the worker threads and on the I/O thread alike."""
    assert issubclass(serving.NodeHeadTask, WSGITask)
    assert serving.NodeHeadTask.build_response_header is not WSGITask.build_response_header
    assert serving.GuardedChannel.task_class is serving.NodeHeadTask
    assert issubclass(serving.TooLargeTask, serving.NodeHeadTask)


@pytest.mark.parametrize("inline", [True, False], ids=["io-thread", "workers"])
def test_legacy_heads_through_foof_serving(app, world, served, inline):
    server = served(inline)
    _check_legacy_heads(server.port, world["buyer_token"])
