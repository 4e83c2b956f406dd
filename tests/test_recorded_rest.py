"""Replay the seed's recorded secondhand exchanges (``/users``, ``/products``, ``/orders``).

Every file in ``tests/recorded/secondhand/`` is one documented example of the seed
``004_68fef7639ee4288b.txt``, transcribed by hand with the setup it needs (done through the
real routes); the format is described in ``tests/recorded/secondhand/README.md``. Each file is
replayed against a fresh app and database; status, ``Content-Type`` and the body bytes must be
equal after these normalisations and no others:

* ids: the seed's ids come from the original's database. A recording binds each seed id it
  shows to the row it creates (``seed-id: 0000000005 = 1``); the expected body is rewritten
  with our id *in the seed's format* (same zero padding, or none), so the padding is checked;
* times: ``createTime``/``updateTime`` values in the wire rules' datetime format
  (``2022-12-11T13:51:40.000+00:00``) become ``<TIME>`` on both sides; ``null`` stays ``null``
  and any other format is left alone (and so fails);
* times whose value is the seed database's history: on an exchange marked
  ``db-time: updateTime`` the value of that key (a datetime *or* ``null``) becomes
  ``<DBTIME>`` on both sides. The seed's ``updateTime: null`` of ``GET /users/detail`` says
  that row of the original's database had never been updated; the state the example shows
  (a phone number on a fresh account) can only be reached here through an update. Used where
  the seed's value comes from its own database or the wire rules (docs/) does not say when it changes;
* upload names: uuid4 strings become ``<UUID1>``, ``<UUID2>``, ... numbered by first
  appearance over the whole recording, each side separately (the same picture must come back
  under the same name later in the recording).

Everything the wire rules (docs/) corrects with respect to the seed is written into the recording itself,
with a comment next to the expectation.
"""

import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image

RECORDED = Path(__file__).parent / "recorded" / "secondhand"
FILES = sorted(RECORDED.glob("*.txt"))

# --- the normalisations ------------------------------------------------------------------

ID_KEYS = ("id", "seller", "buyer", "pid", "data")
ID_VALUE = re.compile(r'"(' + "|".join(ID_KEYS) + r')":"([0-9]+)"')
DATETIME = r'"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}\+00:00"'
TIME_VALUE = re.compile(r'"(createTime|updateTime)":' + DATETIME)
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PATH_ID = re.compile(r"\{([0-9]+)\}")


def render_id(literal, row):
    """Our row id written as the seed writes ``literal`` (zero-padded to its width, or bare)."""
    if len(literal) > 1 and literal.startswith("0"):
        return f"{row:0{len(literal)}d}"
    return str(row)


class Uuids:
    """Numbers the uuid4 strings of one side of a recording by first appearance."""

    def __init__(self):
        self.seen = {}

    def __call__(self, text):
        def number(match):
            value = match.group(0)
            self.seen.setdefault(value, f"<UUID{len(self.seen) + 1}>")
            return self.seen[value]

        return UUID4.sub(number, text)


def without_times(text, db_keys=()):
    for key in db_keys:
        text = re.sub(f'"{re.escape(key)}":(?:{DATETIME}|null)', f'"{key}":"<DBTIME>"', text)
    return TIME_VALUE.sub(lambda m: f'"{m.group(1)}":"<TIME>"', text)


def bind_ids(text, bindings, where):
    def replace(match):
        key, literal = match.groups()
        if literal not in bindings:
            raise ValueError(f"{where}: the id {literal!r} under {key!r} has no seed-id binding")
        return f'"{key}":"{render_id(literal, bindings[literal])}"'

    return ID_VALUE.sub(replace, text)


# --- the recording format ----------------------------------------------------------------

EXCHANGE_KEYS = {"request", "as", "json", "form", "file", "status", "content-type", "body", "db-time", "sms-code"}
DB_TIME_KEYS = ("createTime", "updateTime")
REQUIRED = ("request", "status", "content-type", "body")


@dataclass
class Exchange:
    source: str
    line: int
    method: str = ""
    path: str = ""
    as_user: str | None = None
    json_text: str | None = None
    form: dict | None = None
    files: list = field(default_factory=list)
    status: int = 0
    content_type: str = ""
    body: str | None = None
    db_time: tuple = ()
    sms_code: str | None = None


@dataclass
class Recording:
    path: Path
    bindings: dict = field(default_factory=dict)
    exchanges: list = field(default_factory=list)


def compact(text):
    return json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":"))


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
        if key == "seed-id":
            if current is not None:
                raise ValueError(f"{where}: seed-id after the first exchange")
            literal, eq, row = (part.strip() for part in value.partition("="))
            if not eq or not literal.isdigit() or not row.isdigit() or literal in rec.bindings:
                raise ValueError(f"{where}: bad seed-id {value!r}")
            rec.bindings[literal] = int(row)
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
        elif key == "sms-code":
            current.sms_code = value
        elif key == "json":
            json.loads(value)  # must be valid; sent as this exact text
            current.json_text = value
        elif key == "form":
            current.form = json.loads(value)
        elif key == "file":
            current.files.append(json.loads(value))
        elif key == "db-time":
            current.db_time = tuple(k.strip() for k in value.split(","))
            if not set(current.db_time) <= set(DB_TIME_KEYS):
                raise ValueError(f"{where}: db-time names only {DB_TIME_KEYS}")
        elif key == "status":
            current.status = int(value)
        elif key == "content-type":
            current.content_type = value
        elif key == "body":
            if compact(value) != value:
                raise ValueError(f"{where}: body is not compact JSON as docs/rest-api.md writes it")
            current.body = value
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
        if exchange.json_text is not None and (exchange.form is not None or exchange.files):
            raise ValueError(f"{path.name}:{exchange.line}: json and form/file together")
        for literal in PATH_ID.findall(exchange.path):
            if literal not in rec.bindings:
                raise ValueError(f"{path.name}:{exchange.line}: path id {{{literal}}} has no seed-id binding")
    return rec


# --- replaying ---------------------------------------------------------------------------


def make_payload(spec):
    """``png:WxH``: a small PNG made with Pillow."""
    kind, _, size = spec.partition(":")
    if kind != "png":
        raise ValueError(f"unknown payload {spec!r}")
    width, height = (int(n) for n in size.split("x"))
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(out, "PNG")
    return out.getvalue()


class Replay:
    def __init__(self, rec, app):
        self.rec, self.app = rec, app
        self.clients = {}

    def sms_code(self, phonenumber):
        """Ask the legacy face for a code for ``phonenumber`` and read it from the SMS outbox."""
        reply = self.app.test_client().post("/user/requirecode", data={"phonenumber": phonenumber})
        assert reply.get_json() == {"status": "success", "data": {"id": phonenumber}}, reply.data
        outbox = Path(self.app.instance_path) / "outbox" / "sms.jsonl"
        sent = [json.loads(line) for line in outbox.read_text(encoding="utf-8").splitlines()]
        return [m for m in sent if m["phonenumber"] == phonenumber][-1]["code"]

    def client(self, name):
        if name is None:
            return self.app.test_client()
        if name not in self.clients:
            self.clients[name] = self.app.test_client()
        return self.clients[name]

    def send(self, exchange):
        path = PATH_ID.sub(lambda m: render_id(m.group(1), self.rec.bindings[m.group(1)]), exchange.path)
        kwargs = {}
        json_text = exchange.json_text
        if exchange.sms_code:
            json_text = json_text.replace("{CODE}", self.sms_code(exchange.sms_code))
        if json_text is not None:
            kwargs = {"data": json_text.encode("utf-8"), "content_type": "application/json"}
        elif exchange.files:
            data = dict(exchange.form or {})
            for spec in exchange.files:
                data[spec["field"]] = (
                    io.BytesIO(make_payload(spec["payload"])),
                    spec["filename"],
                    spec["content_type"],
                )
            kwargs = {"data": data, "content_type": "multipart/form-data"}
        elif exchange.form is not None:
            kwargs = {"data": exchange.form}
        return self.client(exchange.as_user).open(path, method=exchange.method, **kwargs)


def describe(rec, exchange):
    return f"{rec.path.name}:{exchange.line} [{exchange.source}] {exchange.method} {exchange.path}"


@pytest.fixture
def config(config, tmp_path):
    config["FOOF_UPLOAD_ROOT"] = str(tmp_path / "upload")
    return config


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_recorded_rest_exchange(path, app):
    rec = parse(path)
    replay = Replay(rec, app)
    expected_uuids, actual_uuids = Uuids(), Uuids()
    for exchange in rec.exchanges:
        what = describe(rec, exchange)
        reply = replay.send(exchange)
        actual_body = actual_uuids(without_times(reply.get_data().decode("utf-8", "replace"), exchange.db_time))
        expected_body = expected_uuids(without_times(bind_ids(exchange.body, rec.bindings, what), exchange.db_time))
        actual = (reply.status_code, reply.headers.get("Content-Type"), actual_body.encode("utf-8"))
        expected = (exchange.status, exchange.content_type, expected_body.encode("utf-8"))
        assert actual == expected, (
            f"{what}\n  expected: {expected[0]} {expected[1]!r} {expected[2].decode()}"
            f"\n  actual:   {actual[0]} {actual[1]!r} {actual[2].decode('utf-8', 'replace')}"
        )


# --- the collection itself ---------------------------------------------------------------

#: Every documented route of the seed's /users, /products and /orders sections.
DOCUMENTED = {
    ("POST", "/users"),
    ("POST", "/users/sessions"),
    ("PATCH", "/users/password"),
    ("GET", "/users/detail"),
    ("POST", "/users/detail"),
    ("PATCH", "/users/detial/avatar"),
    ("PATCH", "/users/detial/studentcard"),
    ("GET", "/products"),
    ("GET", "/products/{cid}"),
    ("GET", "/products/detail/{id}"),
    ("POST", "/products"),
    ("PATCH", "/products/{pid}"),
    ("PATCH", "/products/img/{id}"),
    ("DELETE", "/products/{pid}"),
    ("POST", "/orders/{pid}?trans="),
    ("GET", "/orders/buy"),
    ("GET", "/orders/sell"),
    ("POST", "/orders/{orderId}?type=&number="),
    ("POST", "/orders/state/{orderId}?state="),
}


def _template(method, path):
    path = re.sub(r"=[^&]*", "=", path)
    for pattern, template in (
        (r"/products/detail/[^/]+", "/products/detail/{id}"),
        (r"/products/img/[^/]+", "/products/img/{id}"),
        (r"/orders/state/[^/?]+\?state=", "/orders/state/{orderId}?state="),
        (r"/orders/[^/?]+\?trans=", "/orders/{pid}?trans="),
        (r"/orders/[^/?]+\?type=&number=", "/orders/{orderId}?type=&number="),
    ):
        if re.fullmatch(pattern, path):
            return method, template
    if re.fullmatch(r"/products/[^/]+", path) and path != "/products/detail":
        return method, "/products/{cid}" if method == "GET" else "/products/{pid}"
    return method, path


def test_every_recording_parses_and_every_documented_route_is_covered():
    assert FILES, "no recordings found"
    covered = set()
    for path in FILES:
        rec = parse(path)
        for exchange in rec.exchanges:
            bind_ids(exchange.body, rec.bindings, f"{path.name}:{exchange.line}")
            if exchange.source.startswith("seed"):
                covered.add(_template(exchange.method, exchange.path))
    assert DOCUMENTED <= covered, sorted(DOCUMENTED - covered)


def test_normalisations_are_exactly_the_named_ones():
    bindings = {"0000000005": 3, "00000000000000000004": 12, "17": 2}
    seed = '{"id":"0000000005","pid":"00000000000000000004","data":"17","location":"4"}'
    assert bind_ids(seed, bindings, "t") == '{"id":"0000000003","pid":"00000000000000000012","data":"2","location":"4"}'
    with pytest.raises(ValueError):
        bind_ids('{"seller":"0000000009"}', bindings, "t")
    # only the wire rules' datetime format under createTime/updateTime; null stays null
    assert (
        without_times('{"createTime":"2022-12-11T13:51:40.000+00:00","updateTime":null}')
        == '{"createTime":"<TIME>","updateTime":null}'
    )
    assert without_times('{"createTime":"2022-12-11 13:51:40"}') == '{"createTime":"2022-12-11 13:51:40"}'
    assert (
        without_times('{"description":"2022-12-11T13:51:40.000+00:00"}')
        == '{"description":"2022-12-11T13:51:40.000+00:00"}'
    )
    # db-time: the seed database's value of that key, datetime or null, on both sides
    assert (
        without_times('{"createTime":null,"updateTime":null}', ("updateTime",))
        == '{"createTime":null,"updateTime":"<DBTIME>"}'
    )
    assert (
        without_times('{"updateTime":"2022-12-11T13:51:40.000+00:00"}', ("updateTime",)) == '{"updateTime":"<DBTIME>"}'
    )
    assert (
        without_times('{"updateTime":"2022-12-11 13:51:40"}', ("updateTime",)) == '{"updateTime":"2022-12-11 13:51:40"}'
    )
    uuids = Uuids()
    a, b = "6445fe52-f788-4731-b89f-315c447e49cf", "b6c17b8f-46dc-45cc-b342-b70a7faf3f3b"
    assert (
        uuids(f'"/upload/{a}.jpg","/upload/student/{b}.jpg","/upload/{a}.jpg"')
        == '"/upload/<UUID1>.jpg","/upload/student/<UUID2>.jpg","/upload/<UUID1>.jpg"'
    )
