"""Replay the seed's recorded ``/user`` exchanges and compare the replies byte for byte.

Every file in ``tests/recorded/user/`` is one documented example of the seed
``000_fcf45936507af149.txt`` ("Users"), transcribed by hand; the format is described in
``tests/recorded/README.md``. Each file is replayed against a fresh app and database (the
conftest fixtures), and the status, the ``Content-Type`` and the body bytes must be equal.

Only the normalisations the wire rules (docs/) names are applied, and nothing else:

* tokens: any JWT, in the actual body and in the expected body, becomes ``<JWT>``
  (login tokens differ on every run; docs/legacy-wire.md §3);
* Windows paths: the seed was captured on Windows, so its image paths read
  ``image\\avatar\\default.jpg``; in the *expected* body a run of backslashes after the path
  segments ``image``, ``avatar`` and ``item`` becomes ``/`` (docs/legacy-wire.md §2). The actual body is
  never touched by this: a server sending backslashes fails;
* OCR'd field names: ``phonenumner``/``phonennummer`` → ``phonenumber``, ``depreciation`` →
  ``depreciatione``, ``fetch`` → ``fetched`` (docs/legacy-wire.md §1), as keys of the expected body and
  of the request fields.

Everything else the wire rules (docs/) changes with respect to the seed (the info text's last three
characters, the requirecode and avatar replies, ...) is written into the recording itself, with
a comment next to the expectation.
"""

import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image

from foof.extensions import db
from foof.models import Item

RECORDED = Path(__file__).parent / "recorded" / "user"
FILES = sorted(RECORDED.glob("*.txt"))

JSON_TYPE = "application/json; charset=utf-8"

# --- the normalisations the wire rules (docs/) names ---------------------------------------------------

JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+")
JWT_PLACEHOLDER = "<JWT>"
WINDOWS_SEPARATOR = re.compile(r"(image|avatar|item)\\+")
OCR_NAMES = {
    "phonenumner": "phonenumber",
    "phonennummer": "phonenumber",
    "depreciation": "depreciatione",
    "fetch": "fetched",
}
OCR_KEY = re.compile(r'"(' + "|".join(OCR_NAMES) + r')":')


def without_tokens(text):
    return JWT.sub(JWT_PLACEHOLDER, text)


def normalise_expected(text):
    """The seed's text as the production server sends it (see the module docstring)."""
    text = WINDOWS_SEPARATOR.sub(r"\1/", text)
    text = OCR_KEY.sub(lambda m: '"' + OCR_NAMES[m.group(1)] + '":', text)
    return without_tokens(text)


def normalise_actual(text):
    return without_tokens(text)


# --- the recording format ----------------------------------------------------------------

SETUP_KEYS = {"user", "item", "code", "mail-token"}
EXCHANGE_KEYS = {
    "request",
    "as",
    "form",
    "file",
    "status",
    "content-type",
    "body",
    "expect-sms",
    "expect-mail",
    "expect-file",
}
REQUIRED = ("request", "status", "content-type", "body")


@dataclass
class Exchange:
    source: str
    line: int
    method: str = ""
    path: str = ""
    as_user: str | None = None
    form: dict = field(default_factory=dict)
    files: list = field(default_factory=list)
    status: int = 0
    content_type: str = ""
    body: str | None = None
    expect_sms: dict | None = None
    expect_mail: dict | None = None
    expect_file: tuple | None = None


@dataclass
class Recording:
    path: Path
    setup: list = field(default_factory=list)
    exchanges: list = field(default_factory=list)


def parse(path):
    """Read one recording; any malformed line is an error naming the file and line."""
    rec = Recording(path)
    current = None
    seen = set()
    for number, raw in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        where = f"{path.name}:{number}"
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        key, sep, value = raw.partition(": ")
        if not sep:
            raise ValueError(f"{where}: expected 'key: value', got {raw!r}")
        if key == "source":
            current = Exchange(source=value, line=number)
            rec.exchanges.append(current)
            seen = set()
            continue
        if key in SETUP_KEYS:
            if current is not None:
                raise ValueError(f"{where}: setup line {key!r} after the first exchange")
            rec.setup.append((key, _setup_value(key, value, where)))
            continue
        if key not in EXCHANGE_KEYS:
            raise ValueError(f"{where}: unknown key {key!r}")
        if current is None:
            raise ValueError(f"{where}: {key!r} before any 'source:' line")
        if key in seen and key != "file":
            raise ValueError(f"{where}: {key!r} given twice in one exchange")
        seen.add(key)
        if key == "request":
            current.method, _, current.path = value.partition(" ")
        elif key == "as":
            current.as_user = value
        elif key == "form":
            current.form = json.loads(value)
        elif key == "file":
            current.files.append(json.loads(value))
        elif key == "status":
            current.status = int(value)
        elif key == "content-type":
            current.content_type = value
        elif key == "body":
            current.body = value
        elif key == "expect-sms":
            current.expect_sms = json.loads(value)
        elif key == "expect-mail":
            current.expect_mail = json.loads(value)
        elif key == "expect-file":
            name, _, kind = value.partition(" ")
            current.expect_file = (name, kind)
    if not rec.exchanges:
        raise ValueError(f"{path.name}: no exchange")
    for exchange in rec.exchanges:
        attrs = {
            "request": exchange.method,
            "status": exchange.status,
            "content-type": exchange.content_type,
            "body": exchange.body,
        }
        missing = [k for k in REQUIRED if attrs[k] in ("", 0, None)]
        if missing:
            raise ValueError(f"{path.name}:{exchange.line}: exchange lacks {missing}")
    return rec


def _setup_value(key, value, where):
    if key == "user":
        name, _, columns = value.partition(" ")
        columns = json.loads(columns)
        if not isinstance(columns, dict) or "phonenumber" not in columns:
            raise ValueError(f"{where}: user needs a JSON object with phonenumber")
        return name, columns
    if key == "item":
        return json.loads(value)
    return value  # code: a phone number; mail-token: a user name


# --- replaying ---------------------------------------------------------------------------


class Replay:
    def __init__(self, rec, app, client, make_user, token_for, outbox):
        self.rec, self.app, self.client = rec, app, client
        self.make_user, self.token_for, self.outbox = make_user, token_for, outbox
        self.uuids = {}
        self.codes = {}
        self.mail_token = None

    # setup

    def run_setup(self):
        for key, value in self.rec.setup:
            getattr(self, "_setup_" + key.replace("-", "_"))(value)

    def _setup_user(self, value):
        name, columns = value
        columns = dict(columns)
        phone, password = columns.pop("phonenumber"), columns.pop("password")
        self.uuids[name] = self.make_user(phone, password, **columns)

    def _setup_item(self, columns):
        with self.app.app_context():
            db.session.add(Item(**columns))
            db.session.commit()

    def _setup_code(self, phone):
        reply = self.client.post("/user/requirecode", data={"phonenumber": phone})
        answer = reply.get_json(silent=True, force=True) or {}
        if reply.status_code != 200 or answer.get("status") != "success":
            pytest.fail(
                f"{self.rec.path.name}: setup: requirecode for {phone} answered "
                f"{reply.status_code} {reply.get_data(as_text=True)!r}"
            )
        sent = [m for m in self.outbox("sms") if m.get("phonenumber") == phone]
        if not sent:
            pytest.fail(f"{self.rec.path.name}: setup: no SMS for {phone} in the outbox")
        self.codes[phone] = sent[-1]["code"]

    def _setup_mail_token(self, name):
        reply = self.client.post("/user/mail/verify", data={"token": self.token_for(self.uuids[name])})
        if reply.get_data() != b'{"status":"success"}':
            pytest.fail(
                f"{self.rec.path.name}: setup: /user/mail/verify answered "
                f"{reply.status_code} {reply.get_data(as_text=True)!r}"
            )
        self.mail_token = self.outbox("mail")[-1]["link"].rsplit("/", 1)[1]

    # placeholders: TOKEN, CODE, WRONGCODE:nnnn (in field values), MAILTOKEN (in the path)

    def fill(self, exchange, value, form):
        if not isinstance(value, str):
            return value
        if value == "TOKEN":
            return self.token_for(self.uuids[exchange.as_user])
        if value == "CODE":
            return self.codes[form["phonenumber"]]
        if value.startswith("WRONGCODE:"):
            wrong = value.partition(":")[2]
            live = self.codes.get(form.get("phonenumber"))
            if wrong == live:  # one chance in 10 000: pick another wrong code
                wrong = f"{(int(wrong) + 1) % 10000:04d}"
            return wrong
        return value

    def send(self, exchange):
        form = {OCR_NAMES.get(k, k): v for k, v in exchange.form.items()}
        form = {k: self.fill(exchange, v, form) for k, v in form.items()}
        path = exchange.path
        if "MAILTOKEN" in path:
            path = path.replace("MAILTOKEN", self.mail_token)
        kwargs = {}
        if exchange.files:
            data = dict(form)
            for spec in exchange.files:
                data[spec["field"]] = (
                    io.BytesIO(make_payload(spec["payload"])),
                    spec["filename"],
                    spec["content_type"],
                )
            kwargs["data"] = data
            kwargs["content_type"] = "multipart/form-data"
        elif form:
            kwargs["data"] = form
        return self.client.open(path, method=exchange.method, **kwargs)


def make_payload(spec):
    """``png:WxH``: a small PNG made with Pillow."""
    kind, _, size = spec.partition(":")
    if kind != "png":
        raise ValueError(f"unknown payload {spec!r}")
    width, height = (int(n) for n in size.split("x"))
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 90)).save(out, "PNG")
    return out.getvalue()


def describe(rec, exchange):
    return f"{rec.path.name}:{exchange.line} [{exchange.source}] {exchange.method} {exchange.path}"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_recorded_user_exchange(path, app, client, make_user, token_for, outbox):
    rec = parse(path)
    replay = Replay(rec, app, client, make_user, token_for, outbox)
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
        if exchange.expect_sms is not None:
            check_sms(what, outbox("sms"), exchange.expect_sms)
        if exchange.expect_mail is not None:
            check_mail(what, outbox("mail"), exchange.expect_mail)
        if exchange.expect_file is not None:
            check_file(what, app.config["FOOF_MEDIA_ROOT"], *exchange.expect_file)


def check_sms(what, sent, expected):
    assert sent, f"{what}: nothing in the SMS outbox"
    last = sent[-1]
    assert {k: last.get(k) for k in expected} == expected, f"{what}: SMS {last!r}"
    assert re.fullmatch(r"[0-9]{4}", str(last.get("code"))), f"{what}: SMS code {last!r}"


def check_mail(what, sent, expected):
    assert sent, f"{what}: nothing in the mail outbox"
    last = {k: without_tokens(v) if isinstance(v, str) else v for k, v in sent[-1].items()}
    assert {k: last.get(k) for k in expected} == expected, f"{what}: mail {sent[-1]!r}"


def check_file(what, media_root, name, kind):
    file = Path(media_root) / name
    assert file.is_file(), f"{what}: {file} missing"
    with Image.open(file) as im:
        assert im.format == kind, f"{what}: {file} is {im.format}, not {kind}"


# --- the collection itself ---------------------------------------------------------------

#: Every documented /user route of the seed, with the outcomes the suite must replay.
DOCUMENTED = {
    ("GET", "/user/<uuid>"),
    ("POST", "/user/me"),
    ("POST", "/user/published"),
    ("POST", "/user/finished"),
    ("POST", "/user/login"),
    ("POST", "/user/register"),
    ("POST", "/user/reset"),
    ("POST", "/user/requirecode"),
    ("POST", "/user/avatar"),
    ("POST", "/user/modify"),
    ("POST", "/user/mail/verify"),
    ("GET", "/user/mail/verify/<token>"),
}


def _template(method, path):
    if path == "/user/mail/verify/MAILTOKEN":
        return method, "/user/mail/verify/<token>"
    if method == "GET" and re.fullmatch(r"/user/[^/]+", path):
        return method, "/user/<uuid>"
    return method, path


def test_every_recording_parses_and_every_documented_route_is_covered():
    assert FILES, "no recordings found"
    covered = set()
    for path in FILES:
        rec = parse(path)
        covered |= {_template(e.method, e.path) for e in rec.exchanges if e.source.startswith("seed")}
    assert DOCUMENTED <= covered, sorted(DOCUMENTED - covered)


def test_normalisations_are_exactly_the_named_ones():
    seed = '{"phonenumner":"1","avatarurl":"image\\\\avatar\\\\default.jpg","depreciation":99}'
    assert normalise_expected(seed) == '{"phonenumber":"1","avatarurl":"image/avatar/default.jpg","depreciatione":99}'
    # values are never renamed, only keys; "depreciatione" is left alone
    assert normalise_expected('{"depreciatione":1,"note":"fetch"}') == '{"depreciatione":1,"note":"fetch"}'
    # backslashes elsewhere (JSON escapes) are kept
    assert normalise_expected('{"note":"a\\\\b \\"q\\""}') == '{"note":"a\\\\b \\"q\\""}'
    # the actual body only loses its tokens
    assert normalise_actual('{"avatarurl":"image\\\\avatar\\\\1.jpg"}') == '{"avatarurl":"image\\\\avatar\\\\1.jpg"}'
    token = "eyJhbGciOiJIUzI1NiJ9.eyJ1dWlkIjoxfQ.abc-_1"
    assert normalise_actual(f'{{"token":"{token}"}}') == '{"token":"<JWT>"}'
