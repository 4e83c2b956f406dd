"""Disabling an account (foof.domain.moderation): tokens and sessions stop at once, a correct
password is refused on both faces, enabling lets the account log in again; unlocking forgets
a lockout. On both databases."""

import hashlib
import logging

from foof.domain import moderation
from tests.test_rest import Person, call


def _sha1(text):
    return hashlib.sha1(text.encode()).hexdigest()


def _legacy_login(client, phone, password):
    return client.post("/user/login", data={"phonenumber": phone, "password": password}).json


def test_disable_refuses_tokens_and_login_then_enable(app, client, make_user):
    uuid = make_user("13800000009", _sha1("secret"))
    token = _legacy_login(client, "13800000009", _sha1("secret"))["token"]
    assert client.post("/user/me", data={"token": token}).json["status"] == "success"
    with app.app_context():
        assert moderation.disable(uuid, "spam", actor="test") is True
        assert moderation.disable(uuid, "again", actor="test") is False
        assert moderation.is_disabled(uuid)
    assert client.post("/user/me", data={"token": token}).status_code == 403
    assert _legacy_login(client, "13800000009", _sha1("secret")) == {"status": "failure", "info": "account disabled"}
    # A wrong password is still just wrong: the state is told only to who knows the password.
    assert _legacy_login(client, "13800000009", _sha1("nope"))["info"] == "password incorrect"
    with app.app_context():
        assert moderation.enable(uuid, actor="test") is True
        assert moderation.enable(uuid, actor="test") is False
    assert client.post("/user/me", data={"token": token}).status_code == 403  # the old token stays dead
    fresh = _legacy_login(client, "13800000009", _sha1("secret"))
    assert fresh["status"] == "success"
    assert client.post("/user/me", data={"token": fresh["token"]}).json["status"] == "success"


def test_disable_ends_rest_sessions_and_refuses_rest_login(app):
    person = Person(app, "alice")
    assert call(person.client, "GET", "/users/detail").json["state"] == 200
    with app.app_context():
        moderation.disable(person.uuid, actor="test")
    assert call(person.client, "GET", "/users/detail").status_code == 401
    again = call(app.test_client(), "POST", "/users/sessions", {"username": "alice", "password": "123456"}).json
    assert again["state"] == 4009


def test_unlock_forgets_a_lockout(app, client, make_user, caplog):
    make_user("13800000010", _sha1("right"))
    caplog.set_level(logging.INFO, logger="foof.security")
    for _ in range(10):
        assert _legacy_login(client, "13800000010", _sha1("wrong"))["info"] == "password incorrect"
    assert _legacy_login(client, "13800000010", _sha1("right"))["status"] == "failure"  # locked out
    assert any("login.locked" in r.getMessage() for r in caplog.records)
    assert any("login.failed" in r.getMessage() and "13800000010" not in r.getMessage() for r in caplog.records)
    with app.app_context():
        from foof.extensions import db
        from foof.models import User

        uuid = db.session.query(User.uuid).filter_by(phonenumber="13800000010").scalar()
        assert moderation.unlock(uuid, actor="test") >= 10
    assert _legacy_login(client, "13800000010", _sha1("right"))["status"] == "success"


def test_mask_hides_the_middle():
    from foof.domain.seclog import mask

    assert mask("13900000003") == "139****0003"
    assert "0000" not in mask("13900000003")[3:7]
