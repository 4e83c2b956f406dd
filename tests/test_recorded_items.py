"""Replay the recorded ``/item``, ``/fav``, ``/user/chat``, ``/user/want`` and ``/recommend``
exchanges and compare the replies byte for byte.

The recordings live in ``tests/recorded/items/``, ``tests/recorded/fav/`` and
``tests/recorded/chat/``. They use the format of ``tests/recorded/README.md`` and are read
and replayed by the loader of ``tests/test_recorded_user.py`` (imported, not copied), with
the same normalisations and nothing else: tokens, the Windows ``\\`` of the seed's image
paths and the OCR'd field names (``depreciation`` → ``depreciatione``, ``fetch`` →
``fetched``), all as the wire rules (docs/) names them.

This module adds a few keys the ``/user`` recordings did not need. The extra lines are
taken out before the text is handed to the imported ``parse`` (they become comments, so
line numbers stay right), and put back by line number:

Setup (before the first exchange, run in file order together with the standard keys):

- ``fav: {"id": 5, "itemid": 3, "uuid": 1}`` inserts a ``favourites`` row (ORM attributes);
- ``chat: {"id": 1, "from": 1, "to": 1, "type": 1, "data": "hi", "fetched": true,
  "createdAt": "2019-09-04T07:17:22", "updatedAt": "..."}`` inserts a ``chats`` row (column
  names as the table has them; datetimes are naive UTC);
- ``clock: 2019-09-04T14:29:05`` sets the fake clock (``conftest.FakeClock``).

Per exchange:

- ``clock: ...`` sets the fake clock before the request is sent;
- ``multipart: yes`` sends the ``form`` fields as ``multipart/form-data`` even without a
  ``file:`` (the seed's ``/item/modify`` and ``/item/trade`` requests are multipart);
- ``json: {...}`` sends exactly this text as ``application/json`` (the test client would
  sort the keys of a ``json=`` argument); the string value ``"TOKEN"`` becomes the ``as:``
  user's login token. Instead of ``form:``;
- file payloads, besides ``png:WxH``: ``noise-png:WxH`` (a PNG of pseudo-random pixels,
  which does not compress), ``text:...`` (those UTF-8 bytes: not an image), ``empty:``
  (0 bytes). ``file:`` lines may repeat a field name (the mobile app sends every photo as
  ``file``); parts go out in the order written;
- ``expect-files: ["item/1-1-0.jpg", ...] JPEG`` each file exists under the media root and
  decodes as that format; ``expect-absent: ["item/1-1-0.jpg", ...]`` none of them exists.
"""

import io
import json
import random
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import stream_encode_multipart

from foof.extensions import db
from foof.models import Chat, Favourite
from tests.test_recorded_user import (
    OCR_NAMES,
    Replay,
    _setup_value,
    check_file,
    describe,
    make_payload,
    normalise_actual,
    normalise_expected,
    parse,
)

RECORDED = Path(__file__).parent / "recorded"
FOLDERS = ("items", "fav", "chat")
FILES = sorted(p for folder in FOLDERS for p in (RECORDED / folder).glob("*.txt"))

STANDARD_SETUP = {"user", "item", "code", "mail-token"}
EXTRA_SETUP = {"fav", "chat", "clock"}
EXTRA_EXCHANGE = {"clock", "multipart", "json", "expect-files", "expect-absent"}


# --- the extension of the recording format -----------------------------------------------


class _Text:
    """Stands in for a ``Path`` when the imported ``parse`` reads a recording."""

    def __init__(self, path, text):
        self.path, self.text = path, text
        self.name = path.name

    def read_text(self, encoding="utf-8"):
        return self.text

    def __fspath__(self):
        return str(self.path)


def parse_extended(path):
    """Parse a recording with the extra keys of this module (see the module docstring).

    Every setup line (standard and extra) is read here, in file order; the exchange lines
    are parsed by the imported ``parse``, and the extra exchange keys are attached to the
    exchange whose ``source:`` line precedes them.
    """
    lines = path.read_text(encoding="utf-8").split("\n")
    kept = []
    setup = []
    extras = []  # (line number, key, value)
    first_source = None
    for number, raw in enumerate(lines, start=1):
        where = f"{path.name}:{number}"
        stripped = raw.lstrip()
        if not raw.strip() or stripped.startswith("#"):
            kept.append(raw)
            continue
        key, sep, value = raw.partition(": ")
        if key == "source" and first_source is None:
            first_source = number
        in_setup = first_source is None
        if sep and in_setup and key in STANDARD_SETUP:
            setup.append((key, _setup_value(key, value, where)))
            kept.append("# " + raw)
        elif sep and in_setup and key in EXTRA_SETUP:
            setup.append((key, _extra_setup_value(key, value, where)))
            kept.append("# " + raw)
        elif sep and not in_setup and key in EXTRA_EXCHANGE:
            extras.append((number, key, value))
            kept.append("# " + raw)
        elif sep and in_setup and key in EXTRA_EXCHANGE:
            raise ValueError(f"{where}: {key!r} before any 'source:' line")
        else:
            kept.append(raw)
    rec = parse(_Text(path, "\n".join(kept)))
    rec.path = path
    rec.setup = setup
    for exchange in rec.exchanges:
        exchange.clock = None
        exchange.multipart = False
        exchange.raw_json = None
        exchange.expect_files = None
        exchange.expect_absent = None
    for number, key, value in extras:
        owner = [e for e in rec.exchanges if e.line < number][-1]
        where = f"{path.name}:{number}"
        if key == "clock":
            _once(owner, "clock", where)
            owner.clock = datetime.fromisoformat(value)
        elif key == "multipart":
            if value != "yes":
                raise ValueError(f"{where}: multipart takes 'yes'")
            owner.multipart = True
        elif key == "json":
            _once(owner, "raw_json", where)
            json.loads(value)  # must be valid JSON as written
            owner.raw_json = value
        elif key == "expect-files":
            names, _, kind = value.rpartition(" ")
            owner.expect_files = (json.loads(names), kind)
        elif key == "expect-absent":
            owner.expect_absent = json.loads(value)
    for exchange in rec.exchanges:
        if exchange.raw_json is not None and (exchange.form or exchange.files or exchange.multipart):
            raise ValueError(f"{path.name}:{exchange.line}: 'json' excludes 'form', 'file', 'multipart'")
    return rec


def _once(exchange, attr, where):
    if getattr(exchange, attr) is not None:
        raise ValueError(f"{where}: {attr!r} given twice in one exchange")


def _extra_setup_value(key, value, where):
    if key == "clock":
        return datetime.fromisoformat(value)
    columns = json.loads(value)
    if not isinstance(columns, dict):
        raise ValueError(f"{where}: {key} needs a JSON object")
    return columns


# --- replaying ---------------------------------------------------------------------------


class ItemsReplay(Replay):
    def __init__(self, rec, app, client, make_user, token_for, outbox, clock):
        super().__init__(rec, app, client, make_user, token_for, outbox)
        self.clock = clock

    def _setup_fav(self, columns):
        with self.app.app_context():
            db.session.add(Favourite(**columns))
            db.session.commit()

    def _setup_chat(self, columns):
        columns = dict(columns)
        columns["sender"] = columns.pop("from")
        for name in ("createdAt", "updatedAt"):
            columns[name] = datetime.fromisoformat(columns[name])
        with self.app.app_context():
            db.session.add(Chat(**columns))
            db.session.commit()

    def _setup_clock(self, moment):
        self.clock.current = moment

    def send(self, exchange):
        if exchange.clock is not None:
            self.clock.current = exchange.clock
        if exchange.raw_json is not None:
            body = exchange.raw_json
            if '"TOKEN"' in body:
                body = body.replace('"TOKEN"', json.dumps(self.token_for(self.uuids[exchange.as_user])))
            return self.client.open(
                exchange.path, method=exchange.method, data=body.encode("utf-8"), content_type="application/json"
            )
        if not exchange.files and not exchange.multipart:
            return super().send(exchange)
        form = {OCR_NAMES.get(k, k): v for k, v in exchange.form.items()}
        form = {k: self.fill(exchange, v, form) for k, v in form.items()}
        data = MultiDict(list(form.items()))
        for spec in exchange.files:
            data.add(
                spec["field"],
                FileStorage(
                    io.BytesIO(payload(spec["payload"])), filename=spec["filename"], content_type=spec["content_type"]
                ),
            )
        # Encoded in memory, parts in the order written: the test client would spool a large
        # body to a temporary file that nobody closes (a ResourceWarning, an error here).
        stream, _, boundary = stream_encode_multipart(data, use_tempfile=False)
        return self.client.open(
            exchange.path,
            method=exchange.method,
            data=stream.getvalue(),
            content_type=f"multipart/form-data; boundary={boundary}",
        )


def payload(spec):
    kind, _, rest = spec.partition(":")
    if kind == "png":
        return make_payload(spec)
    if kind == "noise-png":
        width, height = (int(n) for n in rest.split("x"))
        pixels = random.Random(20190904).randbytes(width * height * 3)
        out = io.BytesIO()
        Image.frombytes("RGB", (width, height), pixels).save(out, "PNG")
        return out.getvalue()
    if kind == "text":
        return rest.encode("utf-8")
    if kind == "empty":
        return b""
    raise ValueError(f"unknown payload {spec!r}")


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_recorded_items_exchange(path, app, client, make_user, token_for, outbox, clock):
    rec = parse_extended(path)
    replay = ItemsReplay(rec, app, client, make_user, token_for, outbox, clock)
    replay.run_setup()
    for exchange in rec.exchanges:
        what = describe(rec, exchange)
        reply = replay.send(exchange)
        actual_body = normalise_actual(reply.get_data().decode("utf-8", "replace")).encode("utf-8")
        expected_body = normalise_expected(exchange.body).encode("utf-8")
        actual = (reply.status_code, reply.headers.get("Content-Type"), actual_body)
        expected = (exchange.status, exchange.content_type, expected_body)
        assert actual == expected, (
            f"{what}\n  expected: {expected[0]} {expected[1]!r} {expected[2].decode()}"
            f"\n  actual:   {actual[0]} {actual[1]!r} {actual[2].decode('utf-8', 'replace')}"
        )
        root = Path(app.config["FOOF_MEDIA_ROOT"])
        if exchange.expect_file is not None:
            check_file(what, root, *exchange.expect_file)
        if exchange.expect_files is not None:
            names, kind = exchange.expect_files
            for name in names:
                check_file(what, root, name, kind)
        if exchange.expect_absent is not None:
            present = [name for name in exchange.expect_absent if (root / name).exists()]
            assert not present, f"{what}: files that should not exist: {present}"


# --- the collection itself ---------------------------------------------------------------

#: Every documented route of the seed's "Items", "Favorites" and "Message" sections.
DOCUMENTED = {
    ("GET", "/item/<itemid>"),
    ("POST", "/item/add"),
    ("POST", "/item/delete"),
    ("POST", "/item/image"),
    ("POST", "/item/modify"),
    ("POST", "/item/trade"),
    ("POST", "/fav/query"),
    ("POST", "/fav/add"),
    ("POST", "/fav/delete"),
    ("POST", "/user/chat/push"),
    ("POST", "/user/chat/fetchnew"),
    ("POST", "/user/chat/fetchall"),
    ("POST", "/user/want/delete"),
    ("POST", "/user/want/deleteall"),
    ("POST", "/item/order"),
    ("POST", "/item/reset"),
}
#: Every failure string docs/legacy-wire.md §5-§8 gives these routes: (route, reply) pairs that must be
#: recorded at least once (seed example or "not in the seed, docs/legacy-wire.md §5-§8").
FAILURES = {
    ("GET", "/item/<itemid>", '{"status":"none"}'),
    ("POST", "/item/add", '{"status":"failure","info":"invaild request"}'),
    ("POST", "/item/add", "Forbidden"),
    ("POST", "/item/modify", "Forbidden"),
    ("POST", "/item/modify", '{"status":"false"}'),
    ("POST", "/item/delete", '{"status":"failure","info":"invaild requestno such item"}'),
    ("POST", "/item/image", '{"status":"failure","info":"invaild request"}'),
    ("POST", "/item/image", "Request Entity Too Large"),
    ("POST", "/item/image", "Forbidden"),
    ("POST", "/item/order", '{"status":"failure","info":"Insufficient permissions"}'),
    ("POST", "/item/order", '{"status":"failure","info":"not for trade"}'),
    ("POST", "/item/trade", '{"status":"failure","info":"item not availabe for trade"}'),
    ("POST", "/item/reset", '{"status":"failure"}'),
    ("POST", "/item/reset", '{"status":"failure","info":"Insufficient permissions"}'),
    ("POST", "/item/reset", '{"status":"failure","info":"invaild request"}'),
    ("POST", "/fav/add", '{"status":"failure","info":{}}'),
    ("POST", "/fav/delete", '{"status":"failure","info":{}}'),
    ("POST", "/user/chat/push", '{"status":"failure","info":"no such user"}'),
    ("POST", "/user/chat/push", '{"status":"failure","info":"invaild request"}'),
    ("POST", "/user/want/delete", '{"status":"failure","info":"no such message"}'),
    ("POST", "/user/want/delete", '{"status":"failure","info":"Insufficient permissions"}'),
    ("POST", "/user/want/delete", '{"status":"failure","info":{}}'),
    ("POST", "/user/want/deleteall", '{"status":"failure"}'),
    ("POST", "/user/want/deleteall", '{"status":"failure","info":"Insufficient permissions"}'),
}


def _template(method, path):
    if method == "GET" and path.startswith("/item/"):
        return method, "/item/<itemid>"
    if method == "GET" and path.startswith("/recommend/"):
        return method, "/recommend/<uuid>"
    return method, path


def test_every_recording_parses_and_every_documented_outcome_is_covered():
    assert FILES, "no recordings found"
    seeded, replies = set(), set()
    for path in FILES:
        rec = parse_extended(path)
        for e in rec.exchanges:
            route = _template(e.method, e.path)
            if e.source.startswith("seed"):
                seeded.add(route)
            replies.add(route + (e.body,))
    assert DOCUMENTED <= seeded, sorted(DOCUMENTED - seeded)
    assert FAILURES <= replies, sorted(FAILURES - replies)
    assert ("GET", "/recommend/<uuid>") in {r[:2] for r in replies}
