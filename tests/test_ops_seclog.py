"""Issue #14 item 7: the security log an admin can grep (masked numbers), the optional
``FOOF_SECURITY_LOG`` file (0600), and the access log's 404 line naming the path."""

import hashlib
import logging
import os
import stat

import pytest

from foof import create_app
from foof.domain import seclog


def sha1(text):
    return hashlib.sha1(text.encode()).hexdigest()


@pytest.fixture
def security(caplog):
    caplog.set_level(logging.INFO, logger="foof.security")

    def lines():
        return [r.getMessage() for r in caplog.records if r.name == "foof.security"]

    return lines


def test_codes_sent_and_refused_are_logged_masked(client, security):
    assert client.post("/user/requirecode", data={"phonenumber": "13900000003"}).json["status"] == "success"
    again = client.post("/user/requirecode", data={"phonenumber": "13900000003"}).json
    assert again["status"] == "failure"  # within 60 s
    found = security()
    assert any(line.startswith("code.sent phone=139****0003 ip=") for line in found), found
    assert any(line.startswith("code.refused phone=139****0003") for line in found), found
    assert not any("13900000003" in line for line in found)


def test_mail_sent_is_logged_masked(client, user, security):
    _, token = user
    reply = client.post("/user/mail/verify", data={"token": token, "idcard": "213170001"})
    assert reply.json["status"] == "success", reply.json
    found = [line for line in security() if line.startswith("mail.sent")]
    assert found == ["mail.sent uuid=1 to=213**0001@seu.edu.cn"], security()


def test_failed_logins_lockout_and_admin_actions(app, client, make_user, security, runner):
    make_user("13900000004", sha1("right"))
    for _ in range(11):
        client.post("/user/login", data={"phonenumber": "13900000004", "password": sha1("wrong")})
    client.post("/user/login", data={"phonenumber": "13700000000", "password": sha1("x")})
    found = security()
    assert sum(line.startswith("login.failed uuid=1") for line in found) == 10, found
    assert any(line.startswith("login.locked subject=uuid:1") for line in found), found
    assert any(line.startswith("login.failed phone=137****0000 why=no-account") for line in found), found
    with app.app_context():
        assert runner.invoke(args=["unlock-user", "13900000004"]).exit_code == 0
        assert runner.invoke(args=["disable-user", "1", "--reason", "spam"]).exit_code == 0
        assert runner.invoke(args=["reset-password", "--password-stdin", "1"], input="new\n").exit_code == 0
    found = security()
    assert any(line.startswith("account.unlocked uuid=1 actor=cli forgotten=10") for line in found), found
    assert any(line.startswith("account.disabled uuid=1 actor=cli reason=spam") for line in found), found
    assert "password.reset uuid=1 actor=cli by=admin" in found, found


def test_security_log_file_is_private(config, tmp_path):
    path = tmp_path / "logs" / "security.log"
    config["FOOF_SECURITY_LOG"] = str(path)
    app = create_app(config)
    try:
        with app.app_context():
            seclog.event("login.failed", uuid=7, phone=seclog.mask("13900000005"))
        for handler in seclog.log.handlers:
            handler.flush()
        text = path.read_text(encoding="utf-8")
        assert "login.failed uuid=7 phone=139****0005" in text
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        create_app(config)  # a second app does not add a second handler
        assert sum(getattr(h, "baseFilename", None) == str(path) for h in seclog.log.handlers) == 1
    finally:
        for handler in list(seclog.log.handlers):
            if getattr(handler, "baseFilename", None) == str(path):
                seclog.log.removeHandler(handler)
                handler.close()
        seclog.log.setLevel(logging.NOTSET)


def test_a_404_access_line_names_the_path(config, caplog):
    config["FOOF_LOG_LEVEL"] = "INFO"  # the access hooks are installed only when the line is shown
    caplog.set_level(logging.INFO, logger="foof.access")
    app = create_app(config)
    client = app.test_client()
    assert client.get("/no/such/path").status_code == 404
    assert client.get("/healthz").status_code == 200
    found = [r.getMessage() for r in caplog.records if r.name == "foof.access"]
    assert any(" GET (no route) /no/such/path 404 " in line for line in found), found
    assert any(" GET /healthz 200 " in line for line in found), found


def test_printable_path_keeps_one_line():
    from foof.accesslog import printable_path

    assert printable_path("/no/such\npath x") == "/no/such_path_x"
    long = printable_path("/" + "a" * 200)
    assert long.endswith("…") and len(long) == 121
