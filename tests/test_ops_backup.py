"""Issue #14 item 4: ``backup`` writes one private archive of everything a campus would lose
(database — SQLite through the online backup API while it is written to, WAL included, or a
mysqldump — media, uploads, secrets) and ``restore`` brings a fresh machine back from it."""

import hashlib
import io
import os
import secrets
import stat
import tarfile
import threading

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from foof import create_app
from foof.extensions import db
from tests.conftest import TEST_DB


def sha1(value):
    return hashlib.sha1(value.encode()).hexdigest()


@pytest.fixture
def fresh_database(tmp_path):
    """The new machine's empty database: a SQLite file, or a throw-away MariaDB database."""
    if not TEST_DB:
        yield f"sqlite:///{tmp_path / 'machine2' / 'foof.db'}"
        return
    url = make_url(TEST_DB)
    name = f"{url.database}_restore_{secrets.token_hex(4)}"
    server = create_engine(url.set(database=""))
    with server.begin() as conn:
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        server.dispose()


@pytest.fixture
def own_secrets(config, tmp_path):
    """Secrets from instance/ files (as on a campus server), uploads in the test's folder."""
    config.pop("FOOF_JWT_SECRET")
    config.pop("FOOF_SECRET_KEY")
    config["FOOF_UPLOAD_ROOT"] = str(tmp_path / "upload")
    return config


def test_backup_while_writing_then_restore_on_a_fresh_machine(own_secrets, tmp_path, fresh_database, request):
    config = own_secrets
    app = request.getfixturevalue("app")
    client = app.test_client()
    cli = app.test_cli_runner()
    with app.app_context():
        assert cli.invoke(args=["create-user", "13900000001", "pw"]).exit_code == 0
    token = client.post("/user/login", data={"phonenumber": "13900000001", "password": sha1("pw")}).json["token"]
    photo = os.path.join(config["FOOF_MEDIA_ROOT"], "item", "1-1-0.jpg")
    with open(photo, "wb") as fh:
        fh.write(b"\xff\xd8photo\xff\xd9")
    upload = os.path.join(config["FOOF_UPLOAD_ROOT"], "card", "u1.jpg")
    os.makedirs(os.path.dirname(upload))
    with open(upload, "wb") as fh:
        fh.write(b"\xff\xd8card\xff\xd9")
    with open(os.path.join(app.instance_path, "foof.cfg"), "w") as fh:
        fh.write("FOOF_BRAND = '九龙湖二手集市'\n")
    if not TEST_DB:
        wal = make_url(config["FOOF_DATABASE_URL"]).database + "-wal"
        assert os.path.getsize(wal) > 0  # the rows so far live in the WAL, not yet in the file

    # Writes go on while the backup runs (the server keeps serving).
    stop = threading.Event()

    def keep_writing():
        n = 0
        while not stop.is_set() and n < 200:
            with app.app_context():
                from foof.domain import accounts

                accounts.create_user(f"1370000{n:04d}", "x")
            n += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        with app.app_context():
            result = cli.invoke(args=["backup", "--output", str(tmp_path)])
    finally:
        stop.set()
        writer.join(60)
    assert result.exit_code == 0, result.output
    archive = result.output.strip().splitlines()[-1].split("backup written to ")[1].split(" (")[0]
    assert stat.S_IMODE(os.stat(archive).st_mode) == 0o600
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert ("database/foof.db" if not TEST_DB else "database/dump.sql") in names
    assert {"manifest.json", "media/item/1-1-0.jpg", "upload/card/u1.jpg", "instance/foof.cfg"} <= names
    assert {"instance/jwt_secret", "instance/secret_key"} <= names
    assert not any(n.startswith(("instance/index", "instance/outbox", "instance/backups")) for n in names)

    # A fresh machine: other folders, an empty database, secrets of its own until restored.
    machine = tmp_path / "machine2"
    config2 = dict(config)
    config2.update(
        {
            "FOOF_INSTANCE_PATH": str(machine / "instance"),
            "FOOF_MEDIA_ROOT": str(machine / "media"),
            "FOOF_UPLOAD_ROOT": str(machine / "upload"),
            "FOOF_DATABASE_URL": fresh_database,
        }
    )
    config2.pop("FOOF_SEARCH_INDEX", None)
    fresh = create_app(config2)
    with fresh.app_context():
        done = fresh.test_cli_runner().invoke(args=["restore", "--yes", archive])
        db.engine.dispose()
    assert done.exit_code == 0, done.output
    assert "restored" in done.output and "kept the existing" not in done.output

    again = create_app(config2)  # what the next start of the server reads
    try:
        client2 = again.test_client()
        me = client2.post("/user/me", data={"token": token})
        assert me.status_code == 200 and me.json["status"] == "success"  # the same JWT secret
        login = client2.post("/user/login", data={"phonenumber": "13900000001", "password": sha1("pw")})
        assert login.json["status"] == "success"
        with client2.get("/image/item/1-1-0.jpg") as image:
            assert image.data == b"\xff\xd8photo\xff\xd9"
        with open(machine / "upload" / "card" / "u1.jpg", "rb") as fh:
            assert fh.read() == b"\xff\xd8card\xff\xd9"
        assert again.config["FOOF_BRAND"] == "九龙湖二手集市"
        assert stat.S_IMODE(os.stat(machine / "instance" / "jwt_secret").st_mode) == 0o600
        assert again.extensions["foof.search"].exists()
        assert client2.get("/readyz").status_code == 200
    finally:
        again.extensions["foof.search"].close()
        with again.app_context():
            db.engine.dispose()


def test_backup_refuses_to_overwrite(app, tmp_path):
    target = tmp_path / "b.tar.gz"
    target.write_bytes(b"")
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["backup", "-o", str(target)])
    assert result.exit_code == 1 and "exists already" in result.output


def test_restore_refuses_foreign_and_hostile_archives(app, tmp_path):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not an archive")
    hostile = tmp_path / "hostile.tar.gz"
    with tarfile.open(hostile, "w:gz") as tar:
        for name, data in (
            ("manifest.json", b'{"format": 1, "database": "%s", "created": "x", "files": 1}'),
            ("media/../../escape.txt", b"x"),
        ):
            data = data.replace(b"%s", b"mysql" if TEST_DB else b"sqlite")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    runner = app.test_cli_runner()
    with app.app_context():
        bad = runner.invoke(args=["restore", "--yes", str(junk)])
        evil = runner.invoke(args=["restore", "--yes", str(hostile)])
    assert bad.exit_code == 1 and "not a FOOF backup" in bad.output
    assert evil.exit_code == 1 and "refusing the archive member" in evil.output
    assert not (tmp_path.parent / "escape.txt").exists()
    assert "Traceback" not in bad.output + evil.output
