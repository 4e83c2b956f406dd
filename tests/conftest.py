"""Fixtures: a fresh app and database per test, a fake clock, users and tokens.

The database comes from ``FOOF_TEST_DATABASE_URL`` (MySQL/MariaDB in CI) or, when that is
unset, a temporary SQLite file per test. On MySQL the schema is created once per run and
every table is truncated before each test, so auto-increment ids start at 1 like SQLite's.
"""

import os
import shutil
from datetime import datetime, timedelta

import pytest
from sqlalchemy import inspect, text

from foof import PROJECT_ROOT, create_app
from foof.domain import accounts, tokens
from foof.extensions import db
from foof.schema import create_schema

TEST_DB = os.environ.get("FOOF_TEST_DATABASE_URL", "")
JWT_SECRET = "test-jwt-secret-0123456789abcdef0123456789"
_schema_ready = set()


class FakeClock:
    """Naive-UTC time that only moves when a test says so."""

    def __init__(self, start=datetime(2019, 9, 4, 14, 29, 5)):
        self.current = start

    def __call__(self):
        return self.current

    def advance(self, seconds):
        self.current += timedelta(seconds=seconds)


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def media_root(tmp_path):
    root = tmp_path / "media"
    for folder in ("avatar", "item"):
        (root / folder).mkdir(parents=True)
        shutil.copy(os.path.join(PROJECT_ROOT, "static", "image", folder, "default.jpg"), root / folder)
    return root


@pytest.fixture(autouse=True)
def _no_traffic_yet():
    """Each test starts with no other requests counted: the spare hash threads pause while
    the service is busy (``foof.domain.passwords.Traffic``), and one test's requests must not
    pause the next test's hashes."""
    from foof.domain import passwords

    passwords.traffic.reset()


@pytest.fixture
def config(tmp_path, clock, media_root):
    """The test configuration; a test may change it before asking for ``app``."""
    return {
        "TESTING": True,
        "FOOF_INSTANCE_PATH": str(tmp_path / "instance"),
        "FOOF_DATABASE_URL": TEST_DB or f"sqlite:///{tmp_path / 'test.db'}",
        "FOOF_MEDIA_ROOT": str(media_root),
        "FOOF_JWT_SECRET": JWT_SECRET,
        "FOOF_SECRET_KEY": "test-secret-key",
        "FOOF_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "FOOF_CLOCK": clock,
        "FOOF_LOG_LEVEL": "WARNING",
    }


def _reset_database():
    if TEST_DB not in _schema_ready:
        create_schema()
        _schema_ready.add(TEST_DB)
    names = inspect(db.engine).get_table_names()
    with db.engine.begin() as conn:
        conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
        for name in names:
            conn.execute(text(f"TRUNCATE TABLE `{name}`"))
        conn.execute(text("SET FOREIGN_KEY_CHECKS=1"))


@pytest.fixture
def app(config):
    app = create_app(config)
    with app.app_context():
        if TEST_DB:
            _reset_database()
        else:
            create_schema()
        app.extensions["foof.search"].rebuild()  # an empty index, as init-db makes
    yield app
    app.extensions["foof.search"].close()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    """``make_user(phone="1", password="1", **columns)`` → uuid, created through the domain."""

    def make(phonenumber="1", password="1", **columns):
        with app.app_context():
            uuid = accounts.create_user(phonenumber, password)
            if columns:
                user = accounts.get(uuid)
                for key, value in columns.items():
                    setattr(user, key, value)
                db.session.commit()
            return uuid

    return make


@pytest.fixture
def token_for(app):
    """``token_for(uuid)`` → a login token signed like the server signs them."""

    def make(uuid):
        with app.app_context():
            return tokens.login_token(uuid)

    return make


@pytest.fixture
def user(make_user, token_for):
    """A registered user: ``(uuid, token)``."""
    uuid = make_user("13800000001", "pw")
    return uuid, token_for(uuid)


@pytest.fixture
def outbox(app):
    """Read the JSON-lines outboxes: ``outbox("sms")`` / ``outbox("mail")`` → list of dicts."""
    import json

    def read(kind):
        path = os.path.join(app.instance_path, "outbox", f"{kind}.jsonl")
        if not os.path.exists(path):
            return []
        with open(path, encoding="utf-8") as fh:
            return [json.loads(line) for line in fh]

    return read


@pytest.fixture
def make_item(app):
    """``make_item(uuid, title=…, sold=1, …)`` → itemid, inserted directly as a row."""
    from foof.models import Item

    def make(uuid, **columns):
        values = {
            "title": "未命名商品",
            "type": 1,
            "price": 1.23,
            "imgurl": "image/item/default.jpg",
            "depreciatione": 99,
            "note": "然而并没什么描述",
            "sold": 1,
            "to": 0,
        }
        values.update(columns)
        with app.app_context():
            item = Item(uuid=uuid, **values)
            db.session.add(item)
            db.session.commit()
            return item.itemid

    return make


@pytest.fixture
def item_row(app):
    """``item_row(itemid)`` → the row as a dict (fresh from the database), or None."""
    from foof.models import Item

    def read(itemid):
        with app.app_context():
            item = db.session.get(Item, itemid)
            return None if item is None else {c.key: getattr(item, c.key) for c in Item.__mapper__.column_attrs}

    return read


#: The tables whose rows a refused request must leave unchanged (fuzzing, schemathesis).
DATA_TABLES = ("users", "items", "favourites", "chats", "orders", "user_profiles", "item_details")


def table_snapshot(app):
    """A digest of every row of :data:`DATA_TABLES`, to compare before and after a request."""
    import hashlib

    with app.app_context():
        out = {}
        for table in DATA_TABLES:
            rows = db.session.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all()
            out[table] = hashlib.sha256(repr(rows).encode()).hexdigest()
        db.session.rollback()
        return out


def post_json(client, path, body):
    """POST a JSON body with its keys in the given order (the test client would sort them)."""
    import json

    return client.post(path, data=json.dumps(body, ensure_ascii=False), content_type="application/json")


def start_server(config):
    """Start ``python wsgi.py`` (waitress, 8 threads) on a free loopback port with the test's
    configuration; returns ``(process, url)`` once it accepts connections."""
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ)
    env.update(
        {
            "FOOF_HOST": "127.0.0.1",
            "FOOF_PORT": str(port),
            "FOOF_THREADS": "8",
            "FOOF_INSTANCE_PATH": config["FOOF_INSTANCE_PATH"],
            "FOOF_DATABASE_URL": config["FOOF_DATABASE_URL"],
            "FOOF_MEDIA_ROOT": config["FOOF_MEDIA_ROOT"],
            "FOOF_JWT_SECRET": config["FOOF_JWT_SECRET"],
            "FOOF_SECRET_KEY": config["FOOF_SECRET_KEY"],
            "FOOF_LOG_LEVEL": "WARNING",
            "FOOF_PASSWORD_HASH_METHOD": config["FOOF_PASSWORD_HASH_METHOD"],
        }
    )
    proc = subprocess.Popen(
        [sys.executable, os.path.join(PROJECT_ROOT, "wsgi.py")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                raise RuntimeError(f"server did not start (exit {proc.returncode})")
            time.sleep(0.05)


def stop_server(proc):
    import subprocess

    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def live_server(app, config):
    """The real service in a subprocess on the test's database: ``live_server.url``."""
    import types

    proc, url = start_server(config)
    yield types.SimpleNamespace(url=url, process=proc)
    stop_server(proc)


def http_post(url, fields, timeout=30):
    """POST urlencoded ``fields`` with urllib; returns (status, body bytes)."""
    import urllib.error
    import urllib.parse
    import urllib.request

    data = urllib.parse.urlencode(fields).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=timeout) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.read()


def status_kb(pid, field):
    """A ``/proc/<pid>/status`` figure in kB (``VmRSS``, ``VmHWM`` …) of a server process."""
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(field)
