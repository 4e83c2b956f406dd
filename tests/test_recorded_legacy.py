"""Replay the 156 exchanges recorded from the old koa server, in order, on a fresh database.

``tests/recorded/legacy/exchanges.jsonl`` was recorded from the legacy server itself (one run,
in this order, against a fresh database; see ``tests/recorded/legacy/README.md``). Every
exchange is sent to a fresh FOOF app in the same order, and the status line (code and reason
phrase), the content type and the body bytes must equal the recording — except for the
exchanges named in :data:`DIFFERENCES`, each with the deliberate difference, the rule behind it
(in words) and the answer FOOF gives instead, which is asserted like any other.

Only values that change from run to run are normalised, and only these:

* verification codes: a ``verifycode`` the recording sends is the code the old server leaked a
  few exchanges earlier; FOOF sends it to the SMS outbox instead, so the request carries the
  code FOOF sent to the same number;
* JWTs: a token in a request is the token FOOF issued in the reply that issued the recorded
  one; the three tokens the recorder signed itself are re-signed with the test secret (same
  claims, current times); in bodies every JWT compares as ``<JWT>``;
* chat timestamps (``createdAt``/``updatedAt``) and search's ``took``.

A verify code the recording sends that is *not* one the old server leaked (a deliberately
wrong code) is sent as recorded, unless it happens to be the code FOOF sent: then it is
changed to another wrong code, so a wrong code stays wrong. Search requests wait for the
index writer first (the index follows commits on a background thread).

The same replay runs twice: through Flask's test client, and through a real waitress server
(``foof.serving``) over one kept-alive connection, where the response head is compared too:
header names in order and values (``Date`` by format only, ``Content-Length`` = the body's
length). Both run on SQLite and, with ``FOOF_TEST_DATABASE_URL``, on MySQL/MariaDB. The
heads match once foof/serving.py writes legacy heads with ``foof.legacy.render.node_head``
(until then that part is an expected failure, and
:func:`test_recorded_heads_with_node_head_task` shows the 156 heads with waitress's own task
doing so).
"""

import base64
import http.client
import json
import re
import threading
import time
from email.utils import parsedate_to_datetime
from pathlib import Path

import jwt as pyjwt
import pytest
import waitress.server

from foof import serving
from tests.test_legacy_wire import NodeHeadChannel

RECORDING = Path(__file__).parent / "recorded" / "legacy" / "exchanges.jsonl"
EXCHANGES = [json.loads(line) for line in RECORDING.read_text(encoding="utf-8").splitlines() if line.strip()]

JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+")
TIMESTAMP = re.compile(r'"(createdAt|updatedAt)":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"')
TOOK = re.compile(r'^\{"took":\d+,')
JSON = "application/json; charset=utf-8"
TEXT = "text/plain; charset=utf-8"

OK = "200 OK"
INVALID = '{"status":"failure","info":"invaild request"}'
TOO_FREQUENT = '{"status":"failure","info":"request too frequent"}'
FORBIDDEN = ("403 Forbidden", TEXT, "Forbidden")


def ok(body):
    return (OK, JSON, body)


def recorded_with(*replacements):
    """FOOF's answer = the recorded body with these (old, new) text replacements."""

    def build(recorded):
        status, ctype, body = recorded
        for old, new in replacements:
            assert old in body, (old, body[:200])
            body = body.replace(old, new)
        return status, ctype, body

    return build


LEAKED_CODE = (
    "the old server put the SMS code in the requirecode reply (data.code), so anyone "
    "could register or reset any number; FOOF sends the code only to the SMS sender"
)
DELETED_ITEMS = (
    'a deleted item is gone: GET /item answers {"status":"none"} (the old server '
    "served it with sold 3, a state it also used for reserved)"
)
SEARCH = (
    "the old server answered 204 without a body because its Elasticsearch was unreachable; "
    "FOOF searches its embedded index and answers in the Elasticsearch 6 shape"
)
IMAGE_NO_FILES = (
    "an /item/image request without files is refused and the listing keeps its "
    "pictures; the old server answered success with an empty list and blanked imgurl"
)
EMOJI = (
    "4-byte characters are stored (utf8mb4 tables); the old 3-byte utf8 chats table refused "
    "the emoji and the old server sent the SQL error object back"
)

#: seq -> (what differs, the rule, FOOF's answer: (status line, content type, normalised body),
#: or a function of the recorded (status line, content type, normalised body) giving it).
#: Only deliberate differences are named; FOOF's answer is asserted for each.
DIFFERENCES = {
    1: ("no code in the reply", LEAKED_CODE, ok('{"status":"success","data":{"id":"13800000001"}}')),
    3: (
        "requirecode without a phonenumber is refused",
        "a code is sent only to a usable phone number; the old server 'sent' one to no number and leaked it",
        ok(INVALID),
    ),
    7: ("no code in the reply", LEAKED_CODE, ok('{"status":"success","data":{"id":"13800000002"}}')),
    9: (
        "a second code within 60 s is refused",
        "one code per number per 60 s (and 10 per number, 30 per client address in 24 hours), "
        "whether or not the last one was used; the old server only looked at an unused code",
        ok(TOO_FREQUENT),
    ),
    11: ("no code in the reply", LEAKED_CODE, ok('{"status":"success","data":{"id":"13800000003"}}')),
    21: (
        "a client-chosen uuid is ignored",
        "register reads only phonenumber, verifycode and password; the old server passed the "
        "whole body to Sequelize, so exchange 12 created uuid 500 (FOOF: uuid 3)",
        ok('{"status":"failure","info":"no such user"}'),
    ),
    23: (
        "1abc is not coerced to 1",
        "ids are whole positive numbers; the old server's parseInt read the leading digits",
        ok('{"status":"failure","info":"no such user"}'),
    ),
    30: (
        "an avatar request without a file is invaild request",
        "an upload without a usable image is refused, nothing written; the old server crashed "
        "reading the missing file and answered its catch-all 'server failed'",
        ok(INVALID),
    ),
    44: (
        "1abc is not coerced to 1",
        "ids are whole positive numbers; the old server's parseInt read the leading digits",
        ok('{"status":"none"}'),
    ),
    50: ("an image upload without files is refused", IMAGE_NO_FILES, ok(INVALID)),
    51: (
        "repeated file parts are stored",
        "the app repeats the part name file; FOOF reads every part in arrival order whatever "
        "its name (the old server read only file0, file1, ... and failed)",
        ok('{"status":"success","imgurl":["image/item/1-4-0.jpg","image/item/1-4-1.jpg"]}'),
    ),
    53: (
        "item 2 keeps its default picture",
        IMAGE_NO_FILES,
        recorded_with(('"imgurl":""', '"imgurl":"image/item/default.jpg"')),
    ),
    58: (
        "item 2 keeps its default picture; item 4 shows the pictures of exchange 51",
        IMAGE_NO_FILES + "; repeated file parts are stored (exchange 51)",
        recorded_with(
            ('"imgurl":""', '"imgurl":"image/item/default.jpg"'),
            (
                '"itemid":4,"uuid":1,"title":"Big","type":1,"price":1e+21,"imgurl":"image/item/default.jpg"',
                '"itemid":4,"uuid":1,"title":"Big","type":1,"price":1e+21,'
                '"imgurl":"image/item/1-4-0.jpg++image/item/1-4-1.jpg++"',
            ),
        ),
    ),
    65: (
        "no Sequelize error object",
        "replies never carry error objects, SQL or stack details; a push without a type is "
        "invaild request and nothing is stored",
        ok(INVALID),
    ),
    66: ("the emoji message is stored", EMOJI, ok('{"status":"success"}')),
    71: (
        "B also receives the emoji message of exchange 66",
        EMOJI,
        recorded_with(
            (
                '"createdAt":"<TIME>","updatedAt":"<TIME>"}]}',
                '"createdAt":"<TIME>","updatedAt":"<TIME>"},{"id":4,"from":1,"to":2,"type":1,'
                '"data":"ok 😀","fetched":false,"createdAt":"<TIME>","updatedAt":"<TIME>"}]}',
            )
        ),
    ),
    75: (
        "message ids after exchange 66 are one higher (5, not 4)",
        EMOJI + "; it took id 4",
        recorded_with(('{"id":4,"from":2', '{"id":5,"from":2')),
    ),
    106: (
        "data as a JSON array is read",
        "JSON values keep their JSON types: data may be the JSON array itself or a string "
        "holding one (the old server only parsed a string); items 1 and 2 are already "
        "favourites, nothing is added",
        ok('{"status":"success"}'),
    ),
    107: (
        "no duplicate favourite",
        "one favourite per user and item (a unique index); the old server stored item 2 twice (exchanges 103 and 104)",
        ok('{"status":"success","res":[{"id":1,"itemid":1,"uuid":2},{"id":2,"itemid":2,"uuid":2}]}'),
    ),
    114: ("a deleted item is not shown", DELETED_ITEMS, ok('{"status":"none"}')),
    115: ("a deleted item is not shown", DELETED_ITEMS, ok('{"status":"none"}')),
    117: (
        "search answers (nothing on sale matches: item 1 was sold in exchange 97)",
        SEARCH,
        ok(
            '{"took":0,"timed_out":false,"_shards":{"total":5,"successful":5,"skipped":0,"failed":0},'
            '"hits":{"total":0,"max_score":null,"hits":[]}}'
        ),
    ),
    118: (
        "search answers",
        SEARCH,
        ok(
            '{"took":0,"timed_out":false,"_shards":{"total":5,"successful":5,"skipped":0,"failed":0},'
            '"hits":{"total":1,"max_score":5.042974,"hits":[{"_index":"index-users","_type":"users",'
            '"_id":"1","_score":5.042974,"_source":{"username":"卖家A","info":"hello / 你好",'
            '"address":"九龙湖","score":10}}]}}'
        ),
    ),
    121: (
        "a second verification mail within 60 s is refused",
        "one verification mail per user per 60 s (mail flooding)",
        ok(TOO_FREQUENT),
    ),
    126: (
        "a mail token for a user that does not exist is invaild request",
        "a mail link confirms an existing account only; the old server answered success having updated nothing",
        ok(INVALID),
    ),
    128: (
        "a mail token is not a login token",
        "mail tokens are refused on token routes (a mailed link was a login on the old server)",
        FORBIDDEN,
    ),
    129: (
        "/user/reset is served",
        "the old server registered reset under a typo path, so the documented /user/reset was "
        "404; FOOF serves it (here no code was sent: invaild request)",
        ok(INVALID),
    ),
    131: (
        "a token for a user that does not exist is 403",
        "a token route needs the token's account to exist (the same 403 as any bad token)",
        FORBIDDEN,
    ),
    132: (
        "data that is not an array is refused",
        "data must be an array of integers; the old server answered success for data=1 and added nothing",
        ok('{"status":"failure","info":{}}'),
    ),
    134: (
        "no code in the reply (the JSON-number phonenumber is echoed as a number)",
        LEAKED_CODE,
        ok('{"status":"success","data":{"id":13800000009}}'),
    ),
    140: (
        "avatarurl is not writable through modify",
        "only /user/avatar sets avatarurl (after the file is in place); /user/modify ignores "
        "it, so the avatar of exchange 29 stays",
        recorded_with(('"avatarurl":"http://evil/x.jpg"', '"avatarurl":"image/avatar/1.jpg"')),
    ),
    141: (
        "a deleted user's token is 403, not 500",
        "no 500 for a token whose account is gone: it is refused like any bad token",
        FORBIDDEN,
    ),
    156: (
        "a 56 kB body is read",
        "the body limit is FOOF_MAX_UPLOAD_BYTES (1 MiB; the old server's parser stopped at "
        "56 kB), so this login is answered",
        ok('{"status":"failure","info":"password incorrect"}'),
    ),
}


def normalise(text):
    text = JWT.sub("<JWT>", text)
    text = TIMESTAMP.sub(lambda m: f'"{m.group(1)}":"<TIME>"', text)
    return TOOK.sub('{"took":0,', text)


class Replay:
    """The run's state: tokens and codes of the recording mapped to this run's."""

    def __init__(self, app, transport, outbox, secret):
        self.app, self.transport, self.outbox, self.secret = app, transport, outbox, secret
        self.tokens = {}  # recorded JWT -> ours
        self.codes = {}  # recorded code (text) -> ours

    def token_for(self, recorded):
        if recorded not in self.tokens:
            claims = pyjwt.decode(recorded, options={"verify_signature": False})
            now = int(time.time())
            shift = now - int(claims.get("iat", now))
            for key in ("iat", "exp"):
                if key in claims:
                    claims[key] = int(claims[key]) + shift
            if "generate" in claims:
                claims["generate"] = int(claims["generate"]) + shift * 1000
            self.tokens[recorded] = pyjwt.encode(claims, self.secret, algorithm="HS256")
        return self.tokens[recorded]

    def request_body(self, exchange):
        if exchange.get("request_body_b64"):
            body = base64.b64decode(exchange["request_body_b64"])
        else:
            body = (exchange.get("request_body") or "").encode("utf-8")
        text = body.decode("latin-1")  # bytes kept one to one
        text = JWT.sub(lambda m: self.token_for(m.group(0)), text)
        return re.sub(r'(verifycode(?:"\s*:\s*"?|=))(\d+)', self._code, text).encode("latin-1")

    def _code(self, match):
        """A leaked code becomes the code FOOF sent for it (a JSON number stays a number:
        851 for "0851"); any other code is a deliberately wrong one and stays wrong."""
        prefix, sent = match.group(1), match.group(2)
        number = not prefix.endswith(('"', "="))
        for recorded, ours in self.codes.items():
            if sent == (str(int(recorded)) if number else recorded):
                return prefix + (str(int(ours)) if number else ours)
        live = {code for code in self.codes.values()} | {m["code"] for m in self.outbox("sms")}
        wrong = sent
        while any(wrong == (str(int(code)) if number else code) for code in live):
            wrong = f"{(int(wrong) + 1) % 10000:0{len(sent)}d}"
        return prefix + wrong

    def path(self, exchange):
        return JWT.sub(lambda m: self.token_for(m.group(0)), exchange["path"])

    def send(self, exchange):
        """Send one exchange; returns the reply as (status line, content type, headers, text)."""
        if exchange["path"].lower().startswith("/item/search"):
            self.app.extensions["foof.search"].flush(timeout=30)
        reply = self.transport(
            exchange["method"], self.path(exchange), self.request_body(exchange), exchange.get("request_content_type")
        )
        self.learn(exchange, reply[3])
        return reply

    def learn(self, exchange, ours):
        """Map what the recorded reply issued (tokens, codes) onto what ours issued."""
        recorded = exchange.get("response_body") or ""
        for theirs, mine in zip(JWT.findall(recorded), JWT.findall(ours)):
            self.tokens[theirs] = mine
        if exchange["path"].lower().startswith("/user/requirecode"):
            try:
                leaked = json.loads(recorded)["data"]["code"]
                phone = str(json.loads(recorded)["data"]["id"])
            except (ValueError, KeyError, TypeError):
                return
            sent = [m for m in self.outbox("sms") if m["phonenumber"] == phone]
            if sent and json.loads(ours).get("status") == "success":
                self.codes[leaked] = sent[-1]["code"]


def flask_transport(client):
    def send(method, path, body, ctype):
        headers = {"Content-Type": ctype} if ctype else {}
        reply = client.open(path, method=method, data=body, headers=headers)
        return reply.status, reply.content_type or None, None, reply.get_data(as_text=True)

    return send


class WaitressTransport:
    """The exchanges through a real ``foof.serving`` server, over one kept-alive connection."""

    def __init__(self, app):
        self.server = serving.create_server(app, "127.0.0.1", 0, threads=4)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.server.effective_port, timeout=30)
        self.reconnects = 0

    def __call__(self, method, path, body, ctype):
        headers = {"Content-Type": ctype} if ctype else {}
        headers["Content-Length"] = str(len(body))
        self.conn.request(method, path, body=body, headers=headers)
        reply = self.conn.getresponse()
        data = reply.read()
        if reply.will_close:  # the server closed (it does after a body it refused)
            self.conn.close()
            self.reconnects += 1
        head = reply.getheaders()
        return f"{reply.status} {reply.reason}", reply.getheader("Content-Type"), head, data.decode("utf-8")

    def stop(self):
        self.conn.close()
        self.server.task_dispatcher.shutdown(timeout=5)
        self.server.trigger.pull_trigger(lambda: waitress.server.wasyncore.close_all(self.server._map))
        self.thread.join(10)


@pytest.fixture
def replay(app, client, outbox, config):
    return Replay(app, flask_transport(client), outbox, config["FOOF_JWT_SECRET"])


def expected_answer(exchange):
    """(status line, content type, normalised body) FOOF must give, and the named difference or None."""
    recorded = (
        f"{exchange['status']} {exchange['reason']}",
        exchange.get("response_content_type"),
        normalise(exchange.get("response_body") or ""),
    )
    named = DIFFERENCES.get(exchange["seq"])
    if named is None:
        return recorded, None
    answer = named[2]
    return (answer(recorded) if callable(answer) else answer), named


def run_all(replay, check_head=None):
    mismatches = []
    for exchange in EXCHANGES:
        status, ctype, head, text = replay.send(exchange)
        got = (status, ctype, normalise(text))
        want, named = expected_answer(exchange)
        kind = "named difference" if named else "unexplained"
        if got != want:
            mismatches.append((exchange["seq"], exchange["step"], kind, want, got))
        elif check_head is not None:
            problem = check_head(exchange, head, text)
            if problem:
                mismatches.append((exchange["seq"], exchange["step"], "head", *problem))
    return mismatches


def report(mismatches):
    return f"{len(mismatches)} exchanges differ:\n" + "\n".join(
        f"#{seq} {step} [{kind}]\n    want {want}\n    got  {got}" for seq, step, kind, want, got in mismatches
    )


def test_the_recording_is_complete():
    assert [e["seq"] for e in EXCHANGES] == list(range(1, 157))
    assert set(DIFFERENCES) <= {e["seq"] for e in EXCHANGES}
    for seq, (what, rule, answer) in DIFFERENCES.items():
        assert what and len(rule) > 20 and answer is not None, seq


def test_every_recorded_exchange(replay):
    mismatches = run_all(replay)
    assert not mismatches, report(mismatches)


def _recorded_head(exchange):
    return [(name, value) for name, value in exchange["response_headers"]]


def check_legacy_head(exchange, head, text):
    """The reply's head against the recorded one: names in order; values equal except Date
    (an HTTP date), Content-Length (the length of this body; a HEAD reply's is the recorded
    one, the length of the GET's body) and Content-Type (compared with the answer above, which
    differs where a difference is named)."""
    want = _recorded_head(exchange)
    if exchange["seq"] in DIFFERENCES and exchange["status"] == 204:
        # FOOF answers search with a JSON body: the head of any JSON reply
        want = [("Content-Type", JSON), ("Content-Length", "?"), ("Date", "?"), ("Connection", "keep-alive")]
    if [name for name, _ in head] != [name for name, _ in want]:
        return [name for name, _ in want], [name for name, _ in head]
    for (name, value), (_, expected) in zip(head, want):
        if name == "Date":
            try:
                parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return ("an HTTP date", value)
        elif name == "Content-Length":
            length = expected if exchange["method"] == "HEAD" else str(len(text.encode("utf-8")))
            if value != length:
                return (length, value)
        elif name == "Content-Type":
            continue
        elif value != expected:
            return ((name, expected), (name, value))
    return None


def test_every_recorded_exchange_through_waitress(app, outbox, config):
    """The whole replay through the real server: status lines (Node's reason phrases),
    content types and bodies as above; and every response head in the recorded header set
    and order (Content-Type, Content-Length, Date, Connection: keep-alive) once
    foof/serving.py writes legacy heads with foof.legacy.render.node_head."""
    transport = WaitressTransport(app)
    try:
        replay = Replay(app, transport, outbox, config["FOOF_JWT_SECRET"])
        heads = []

        def check_head(exchange, head, text):
            problem = check_legacy_head(exchange, head, text)
            if problem:
                heads.append((exchange["seq"], exchange["step"], "head", *problem))
            return None

        mismatches = run_all(replay, check_head)
    finally:
        transport.stop()
    assert not mismatches, report(mismatches)
    assert transport.reconnects == 0  # every reply kept the connection open, as the old server's
    assert not heads, report(heads)


def test_recorded_heads_with_node_head_task(app, outbox, config):
    """The same replay with waitress's own task writing its head through render.node_head
    (the change proposed for foof/serving.py; see tests/test_legacy_wire.py): every one of
    the 156 heads has the recorded header set and order."""
    transport = WaitressTransport.__new__(WaitressTransport)
    transport.server = serving.create_server(app, "127.0.0.1", 0, threads=4, inline=False)
    for listener in serving._listeners(transport.server):
        listener.channel_class = NodeHeadChannel
    transport.thread = threading.Thread(target=transport.server.run, daemon=True)
    transport.thread.start()
    transport.conn = http.client.HTTPConnection("127.0.0.1", transport.server.effective_port, timeout=30)
    transport.reconnects = 0
    try:
        mismatches = run_all(Replay(app, transport, outbox, config["FOOF_JWT_SECRET"]), check_legacy_head)
    finally:
        transport.stop()
    assert not mismatches, report(mismatches)
