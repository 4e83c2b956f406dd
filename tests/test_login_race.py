"""A password changed while a login's password check runs (a slow hash) must refuse what the
old password earned: the token minted and the session started (found by attacking the change:
4 of 13 tokens and 3 of 13 sessions won that race and outlived the change)."""

import hashlib

import pytest

from foof.domain import accounts, passwords
from foof.domain.tx import atomic
from foof.extensions import db
from foof.models import User, WebSession


def sha1(text):
    return hashlib.sha1(text.encode()).hexdigest()


@pytest.fixture
def change_during_check(app, monkeypatch):
    """``arm(uuid, new)``: the next password check succeeds, and right after it — before the
    login mints its token or starts its session — the owner changes the password to ``new``."""
    armed = {}
    real = passwords.check

    def check(stored, password):
        result = real(stored, password)
        if armed:
            uuid, new = armed.pop("uuid"), armed.pop("new")

            def change():
                db.session.execute(
                    db.update(User).where(User.uuid == uuid).values(password=passwords.hash_password(new))
                )
                accounts.password_changed(uuid)

            atomic(change)
        return result

    monkeypatch.setattr(passwords, "check", check)

    def arm(uuid, new):
        armed.update(uuid=uuid, new=new)

    return arm


def register_rest(app, browser, username, password):
    """An account made on the REST face through ``browser``; its uuid."""
    reply = browser.post(
        "/users", json={"username": username, "password": password, "resetQuestion": "q", "resetAnswer": "a"}
    )
    assert reply.get_json()["state"] == 200
    with app.app_context():
        return db.session.execute(db.select(User.uuid).where(User.username == username)).scalar()


def test_a_legacy_token_earned_with_the_old_password_is_refused(client, make_user, change_during_check):
    uuid = make_user("13800000001", "old")
    change_during_check(uuid, "new")
    answer = client.post("/user/login", json={"phonenumber": "13800000001", "password": "old"}).get_json()
    assert answer["status"] == "success"  # the check itself passed, before the change
    me = client.post("/user/me", json={"token": answer["token"]})
    assert (me.status_code, me.data) == (403, b"Forbidden")
    # the new password logs in, and its token works
    again = client.post("/user/login", json={"phonenumber": "13800000001", "password": "new"}).get_json()
    assert client.post("/user/me", json={"token": again["token"]}).get_json()["uuid"] == uuid


def test_a_rest_session_earned_with_the_old_password_does_not_survive(app, change_during_check):
    browser = app.test_client()
    uuid = register_rest(app, browser, "racer", "oldpass")
    change_during_check(uuid, sha1("newpass"))
    browser.post("/users/sessions", json={"username": "racer", "password": "oldpass"})
    assert browser.get("/users/detail").get_json()["state"] == 4003  # no live session
    fresh = app.test_client()
    assert fresh.post("/users/sessions", json={"username": "racer", "password": "newpass"}).get_json()["state"] == 200
    assert fresh.get("/users/detail").get_json()["state"] == 200


def test_a_refused_session_does_not_count_as_a_wrong_guess(app, change_during_check):
    """The session is written in the same transaction that gives the guess back; when the
    password changed meanwhile that transaction is refused, and the guess is still given
    back (the password checked was right), so no attempt is left counted."""
    from foof.models import RateEvent

    browser = app.test_client()
    uuid = register_rest(app, browser, "racer2", "oldpass")
    change_during_check(uuid, sha1("newpass"))
    assert (
        browser.post("/users/sessions", json={"username": "racer2", "password": "oldpass"}).get_json()["state"] != 200
    )
    with app.app_context():
        counted = db.session.execute(
            db.select(db.func.count()).select_from(RateEvent).where(RateEvent.subject == accounts.guess_subject(uuid))
        ).scalar()
    assert counted == 0
    with app.app_context():
        assert (
            db.session.execute(
                db.select(db.func.count()).select_from(WebSession).where(WebSession.uuid == uuid)
            ).scalar()
            == 0
        )
