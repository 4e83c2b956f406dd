"""Issue #14 item 5: ``/healthz``, ``/readyz`` and the start-up check of ``python wsgi.py``
(a database that is unreachable or has no tables, a port in use: one line, exit 2)."""

import os
import socket
import subprocess
import sys

from sqlalchemy import create_engine, text

from foof import PROJECT_ROOT, create_app
from foof.extensions import db
from foof.ops import startup
from tests.conftest import TEST_DB

#: Nothing listens on port 1: connecting is refused at once.
UNREACHABLE = "mysql+pymysql://foof:secret-pw@127.0.0.1:1/foof?charset=utf8mb4"


def test_healthz_is_plain_ok(client):
    reply = client.get("/healthz")
    assert reply.status_code == 200
    assert reply.data == b"ok\n"
    assert reply.mimetype == "text/plain"


def test_readyz_ready_on_a_current_schema(client):
    reply = client.get("/readyz")
    assert reply.status_code == 200, reply.data
    assert reply.data == b"ready\n"


def test_readyz_names_missing_tables_and_index(config, tmp_path):
    config["FOOF_DATABASE_URL"] = f"sqlite:///{tmp_path / 'empty.db'}"
    app = create_app(config)
    reply = app.test_client().get("/readyz")
    assert reply.status_code == 503
    body = reply.data.decode()
    assert body.startswith("not ready\n")
    assert "tables missing: " in body and "users" in body and "init-db" in body
    assert "search index" in body
    assert "Traceback" not in body
    with app.app_context():
        db.engine.dispose()


def test_readyz_unreachable_database_is_503_without_password(config):
    config["FOOF_DATABASE_URL"] = UNREACHABLE
    app = create_app(config)
    reply = app.test_client().get("/readyz")
    assert reply.status_code == 503
    body = reply.data.decode()
    assert "unreachable" in body
    assert "secret-pw" not in body  # the URL is shown without its password
    assert len(body.splitlines()) == 2


def test_readyz_after_a_table_is_dropped(app, client):
    """A table vanishing while serving: /readyz says so (on a scratch SQLite copy only: the
    MariaDB run shares its schema with every test)."""
    if TEST_DB:
        with app.app_context():
            assert startup.problems(app) == []
        return
    with app.app_context():
        db.session.execute(text("DROP TABLE account_blocks"))
        db.session.commit()
    reply = client.get("/readyz")
    assert reply.status_code == 503
    assert "tables missing: account_blocks" in reply.data.decode()


def run_wsgi(config, database_url, port=None, timeout=60):
    """``python wsgi.py`` with the test's configuration; returns the finished process."""
    if port is None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
    env = dict(os.environ)
    env.update(
        {
            "FOOF_HOST": "127.0.0.1",
            "FOOF_PORT": str(port),
            "FOOF_INSTANCE_PATH": config["FOOF_INSTANCE_PATH"],
            "FOOF_DATABASE_URL": database_url,
            "FOOF_MEDIA_ROOT": config["FOOF_MEDIA_ROOT"],
            "FOOF_JWT_SECRET": config["FOOF_JWT_SECRET"],
            "FOOF_SECRET_KEY": config["FOOF_SECRET_KEY"],
            "FOOF_LOG_LEVEL": "WARNING",
        }
    )
    return subprocess.run(
        [sys.executable, os.path.join(PROJECT_ROOT, "wsgi.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_one_line(proc, *words):
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("foof: not starting: "), lines
    for word in words:
        assert word in lines[0], lines
    assert "Traceback" not in proc.stderr
    assert "serving on" not in proc.stderr


def test_refuses_to_start_when_the_database_is_unreachable(config):
    proc = run_wsgi(config, UNREACHABLE)
    assert_one_line(proc, "unreachable", "127.0.0.1:1")
    assert "secret-pw" not in proc.stderr


def test_refuses_to_start_without_tables(config, tmp_path):
    proc = run_wsgi(config, f"sqlite:///{tmp_path / 'empty.db'}")
    assert_one_line(proc, "tables missing", "users", "init-db")


def test_port_in_use_is_one_line(app, config):
    """A port another process holds: one line, not an OSError traceback."""
    if TEST_DB:  # the test database holds the schema already (the app fixture made it)
        url = TEST_DB
    else:
        url = config["FOOF_DATABASE_URL"]
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        proc = run_wsgi(config, url, port=port)
    assert_one_line(proc, "already in use", str(port))


def test_problems_lists_nothing_for_a_served_database(app):
    assert startup.problems(app, search=True) == []


def test_safe_url_hides_the_password():
    assert "secret-pw" not in startup.safe_url(UNREACHABLE)
    assert "127.0.0.1:1" in startup.safe_url(UNREACHABLE)


def test_unreachable_on_a_real_engine_is_one_sentence():
    engine = create_engine(UNREACHABLE)
    try:
        with engine.connect():
            raise AssertionError("port 1 answered")
    except Exception as exc:  # noqa: BLE001 - what the driver raises
        reason = startup._reason(exc)
    finally:
        engine.dispose()
    assert "\n" not in reason and reason
