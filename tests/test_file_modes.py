"""Issue #11 item 16: the instance folder (database, secrets, outboxes with live SMS codes)
and the search index are private to the server: folders 0700, files 0600, also under a
permissive umask, and looser modes left by an older version are tightened at start-up."""

import logging
import os
import sqlite3
import stat
import subprocess
import sys

import pytest

from foof import PROJECT_ROOT, create_app


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(autouse=True)
def permissive_umask():
    old = os.umask(0o022)  # the usual default: new files 0644, folders 0755
    yield
    os.umask(old)


def flask_init_db(instance):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOOF_")}
    env.update(
        FOOF_INSTANCE_PATH=str(instance), FOOF_LOG_LEVEL="WARNING", FOOF_PASSWORD_HASH_METHOD="pbkdf2:sha256:1000"
    )
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "foof", "init-db"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done


def fresh_app(instance):
    return create_app(
        {
            "TESTING": True,
            "FOOF_INSTANCE_PATH": str(instance),
            "FOOF_LOG_LEVEL": "WARNING",
            "FOOF_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        }
    )


def test_init_db_on_a_fresh_instance_creates_everything_private(tmp_path):
    instance = tmp_path / "instance"
    flask_init_db(instance)
    assert mode(instance) == 0o700
    assert mode(instance / "foof.db") == 0o600
    assert mode(instance / "index") == 0o700
    for name in ("secret_key", "jwt_secret"):
        assert mode(instance / name) == 0o600
    app = fresh_app(instance)
    sms, mail = app.extensions["foof.senders"]
    sms.send("13800000000", "123456")
    mail.send("someone@seu.edu.cn", "verify", "<p>hi</p>", "http://x/verify")
    assert mode(instance / "outbox") == 0o700
    assert mode(instance / "outbox" / "sms.jsonl") == 0o600
    assert mode(instance / "outbox" / "mail.jsonl") == 0o600
    # SQLite's write-ahead log and shared-memory files take the database file's mode.
    conn = sqlite3.connect(instance / "foof.db")
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE probe (x)")
        conn.execute("INSERT INTO probe VALUES (1)")
        conn.commit()
        assert mode(instance / "foof.db-wal") == 0o600
        assert mode(instance / "foof.db-shm") == 0o600
    finally:
        conn.close()


def test_the_app_creates_its_database_file_private(tmp_path):
    app = fresh_app(tmp_path / "instance")
    from foof.cli import create_schema

    with app.app_context():
        create_schema()
    assert mode(tmp_path / "instance" / "foof.db") == 0o600


def test_loose_modes_are_tightened_at_start_up(tmp_path, caplog):
    instance = tmp_path / "instance"
    flask_init_db(instance)
    app = fresh_app(instance)
    app.extensions["foof.senders"][0].send("13800000000", "123456")
    loose = {
        instance: 0o755,
        instance / "index": 0o755,
        instance / "outbox": 0o755,
        instance / "foof.db": 0o644,
        instance / "secret_key": 0o644,
        instance / "outbox" / "sms.jsonl": 0o644,
    }
    (instance / "foof.db-wal").write_bytes(b"")
    loose[instance / "foof.db-wal"] = 0o664
    for path, bits in loose.items():
        os.chmod(path, bits)
    with caplog.at_level(logging.WARNING, logger="foof"):
        fresh_app(instance)
    for path, bits in loose.items():
        assert mode(path) == bits & 0o700, path
        assert any(
            str(path) in record.getMessage() and "tightened" in record.getMessage() for record in caplog.records
        ), path
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="foof"):
        fresh_app(instance)  # nothing left to say
    assert not [r for r in caplog.records if "tightened" in r.getMessage()]
