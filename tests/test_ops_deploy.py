"""Issue #14 items 10-11: the production snippets and the curl walkthroughs work as written.

The README shows the files of ``deploy/`` and ``scripts/`` verbatim (checked here), and each
file is exercised: ``nginx -t`` on the nginx snippet with a self-signed certificate,
``systemd-analyze verify`` on the unit, the SQL on MariaDB (then ``init-db`` and a backup as
that user), the user-creation steps with stubbed system commands, and both walkthroughs
against a real server on a fresh database. nginx and systemd-analyze must be installed
(``scripts/install-check-tools.sh``); without them these tests fail, never skip.
"""

import os
import re
import secrets
import shutil
import stat
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from foof import PROJECT_ROOT
from tests.conftest import TEST_DB, start_server, stop_server

DEPLOY = os.path.join(PROJECT_ROOT, "deploy")
SCRIPTS = os.path.join(PROJECT_ROOT, "scripts")

#: Each file shown in the README, with the fence language it is shown under.
SHOWN = {
    "deploy/nginx-foof.conf": "nginx",
    "deploy/foof.service": "ini",
    "deploy/mysql-setup.sql": "sql",
    "deploy/install-user.sh": "sh",
    "scripts/walkthrough-legacy.sh": "sh",
    "scripts/walkthrough-rest.sh": "sh",
}


def read(relative):
    with open(os.path.join(PROJECT_ROOT, relative), encoding="utf-8") as fh:
        return fh.read()


def tool(name):
    path = shutil.which(name)
    assert path, f"{name} is not installed: run scripts/install-check-tools.sh (apt-get install nginx systemd)"
    return path


@pytest.mark.parametrize("relative", sorted(SHOWN))
def test_readme_shows_the_file_verbatim(relative):
    block = f"```{SHOWN[relative]}\n{read(relative)}```\n"
    assert block in read("README.md"), f"the README's copy of {relative} differs from the file"


# --------------------------------------------------------------------------------- nginx


def nginx_check(tmp_path, snippet):
    subprocess.run(
        [tool("openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=market.example.edu.cn",
         "-keyout", str(tmp_path / "privkey.pem"), "-out", str(tmp_path / "fullchain.pem")],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    snippet = snippet.replace("/etc/ssl/foof/", f"{tmp_path}/")
    (tmp_path / "foof.conf").write_text(snippet, encoding="utf-8")
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n    access_log off;\n    include {tmp_path}/foof.conf;\n}}\n",
        encoding="utf-8",
    )
    return subprocess.run(
        [tool("nginx"), "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-e", str(tmp_path / "error.log")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_nginx_snippet_passes_nginx_t(tmp_path):
    result = nginx_check(tmp_path, read("deploy/nginx-foof.conf"))
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_nginx_t_catches_a_server_without_certificates(tmp_path):
    """The check can fail: the old snippet's ``listen 443 ssl`` without certificates does."""
    broken = re.sub(r"\n\s*ssl_certificate(_key)? [^\n]*", "", read("deploy/nginx-foof.conf"))
    result = nginx_check(tmp_path, broken)
    assert result.returncode != 0
    assert "ssl_certificate" in result.stderr


def test_nginx_snippet_lets_photo_uploads_through_and_hides_metrics():
    from foof.config import DEFAULTS

    snippet = read("deploy/nginx-foof.conf")
    size = re.search(r"client_max_body_size (\d+)m;", snippet)
    assert size and int(size.group(1)) * 1024 * 1024 >= DEFAULTS["FOOF_MAX_PHOTO_UPLOAD_BYTES"]
    assert re.search(r"location = /metrics \{\s*return 404;", snippet)


# ------------------------------------------------------------------------------- systemd


def verify_unit(tmp_path, unit):
    root = tmp_path / "srv"
    (root / ".venv" / "bin").mkdir(parents=True)
    os.symlink(sys.executable, root / ".venv" / "bin" / "python")
    shutil.copy(os.path.join(PROJECT_ROOT, "wsgi.py"), root / "wsgi.py")
    path = tmp_path / "foof.service"
    path.write_text(unit.replace("/srv/foof", str(root)), encoding="utf-8")
    return subprocess.run([tool("systemd-analyze"), "verify", str(path)], capture_output=True, text=True, timeout=60)


def test_systemd_unit_verifies_and_installs(tmp_path):
    unit = read("deploy/foof.service")
    result = verify_unit(tmp_path, unit)
    assert result.returncode == 0, result.stderr
    assert "foof.service" not in result.stderr, result.stderr  # no warning about the unit itself
    assert re.search(r"^\[Install\]\nWantedBy=multi-user.target$", unit, re.M)
    assert re.search(r"^User=foof$", unit, re.M) and re.search(r"^UMask=0077$", unit, re.M)


def test_systemd_analyze_catches_a_broken_unit(tmp_path):
    broken = read("deploy/foof.service").replace(".venv/bin/python", ".venv/bin/no-such-python")
    result = verify_unit(tmp_path, broken)
    assert result.returncode != 0
    assert "no-such-python" in result.stderr


# ------------------------------------------------------------------------- user creation


def test_install_user_steps_create_private_instance(tmp_path):
    """The steps with /srv/foof in a temporary folder and useradd/chown/systemctl stubbed
    (they would change this machine): every folder is made, instance/ is 0700, the service
    user owns what FOOF writes, and the unit is enabled."""
    stubs = tmp_path / "bin"
    stubs.mkdir()
    calls = tmp_path / "calls"
    for name in ("useradd", "chown", "systemctl"):
        (stubs / name).write_text(f'#!/bin/sh\necho "{name} $*" >> {calls}\n')
        (stubs / name).chmod(0o755)
    root = tmp_path / "srv"
    script = read("deploy/install-user.sh").replace("/srv/foof", str(root))
    env = dict(os.environ, PATH=f"{stubs}:{os.environ['PATH']}")
    result = subprocess.run(["sh", "-eu", "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    for folder in ("instance", "upload", "static/image/avatar", "static/image/item"):
        assert (root / folder).is_dir(), folder
    assert stat.S_IMODE(os.stat(root / "instance").st_mode) == 0o700
    made = calls.read_text().splitlines()
    assert made[0].startswith("useradd --system") and made[0].endswith(" foof")
    assert any(c.startswith("chown -R foof:foof") and f"{root}/instance" in c for c in made), made
    assert "systemctl enable --now foof" in made


# ------------------------------------------------------------------------------- MariaDB


def setup_statements(database, user, password):
    sql = read("deploy/mysql-setup.sql")
    sql = sql.replace("'change-this-password'", f"'{password}'")
    sql = re.sub(r"\bfoof\.\*", f"{database}.*", sql)
    sql = sql.replace("CREATE DATABASE foof ", f"CREATE DATABASE {database} ").replace("'foof'@", f"'{user}'@")
    lines_ = [line for line in sql.splitlines() if not line.startswith("--")]
    return [s.strip() for s in "\n".join(lines_).split(";") if s.strip()]


def test_mysql_setup_sql_makes_a_user_that_can_init_and_back_up(tmp_path, config):
    statements = setup_statements("foof_x", "foof_x", "pw")
    assert statements[0].startswith("CREATE DATABASE foof_x CHARACTER SET utf8mb4")
    assert any(s.startswith("CREATE USER 'foof_x'@'localhost'") for s in statements)
    grant = next(s for s in statements if s.startswith("GRANT"))
    for privilege in ("CREATE", "INDEX", "ALTER", "LOCK TABLES"):
        assert privilege in grant
    if not TEST_DB.startswith("mysql"):
        return  # the SQLite run checks the text; the MariaDB run runs it
    url = make_url(TEST_DB)
    name = f"{url.database}_deploy_{secrets.token_hex(3)}"
    password = secrets.token_hex(8)
    root = create_engine(url.set(database=""))
    try:
        with root.begin() as conn:
            for statement in setup_statements(name, name, password):
                conn.execute(text(statement.replace("'localhost'", "'%'")))  # tests connect over TCP
        user_url = url.set(database=name, username=name, password=password).render_as_string(hide_password=False)
        env = dict(os.environ, FOOF_DATABASE_URL=user_url, FOOF_INSTANCE_PATH=config["FOOF_INSTANCE_PATH"],
                   FOOF_MEDIA_ROOT=config["FOOF_MEDIA_ROOT"], FOOF_UPLOAD_ROOT=str(tmp_path / "upload"),
                   FOOF_LOG_LEVEL="WARNING")  # fmt: skip
        flask = [sys.executable, "-m", "flask", "--app", "foof"]
        init = subprocess.run(flask + ["init-db"], env=env, capture_output=True, text=True, timeout=300)
        assert init.returncode == 0, init.stderr
        backup = subprocess.run(
            flask + ["backup", "-o", str(tmp_path)], env=env, capture_output=True, text=True, timeout=300
        )
        assert backup.returncode == 0, backup.stderr + backup.stdout
        assert "backup written to" in backup.stdout
    finally:
        with root.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
            conn.execute(text(f"DROP USER IF EXISTS '{name}'@'%'"))
        root.dispose()


# --------------------------------------------------------------------------- walkthroughs


@pytest.mark.parametrize("script", ["walkthrough-legacy.sh", "walkthrough-rest.sh"])
def test_walkthrough_runs_as_written_on_a_fresh_database(app, config, tmp_path, monkeypatch, script):
    tool("curl")
    monkeypatch.setenv("FOOF_UPLOAD_ROOT", str(tmp_path / "upload"))
    work = tmp_path / "work"
    work.mkdir()
    os.symlink(os.path.join(PROJECT_ROOT, "static"), work / "static")  # the photos the scripts send
    proc, url = start_server(config)
    try:
        env = dict(os.environ, B=url, FOOF_INSTANCE_PATH=config["FOOF_INSTANCE_PATH"])
        result = subprocess.run(
            ["sh", os.path.join(SCRIPTS, script)], cwd=work, env=env, capture_output=True, text=True, timeout=120
        )
    finally:
        stop_server(proc)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "walkthrough done" in result.stdout
    if script == "walkthrough-legacy.sh":
        with open(work / "avatar.jpg", "rb") as fh:
            assert fh.read(2) == b"\xff\xd8"
    else:
        assert "product 1, order 00000000000000000001" in result.stdout
        assert not list(work.glob("*.jar"))
