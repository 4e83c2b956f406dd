"""Issue #11: every limit of the accounts area holds exactly when the attempts come at once.

Each attempt runs in its own thread with its own test client (and so its own app context and
database connection, as waitress's threads have), released together by a barrier, on the
test database (a SQLite file, or MariaDB with FOOF_TEST_DATABASE_URL). Before the fix 40
wrong logins sent at once checked 16-17 passwords against a limit of 10.
"""

import hashlib
import json
import threading

import pytest
from sqlalchemy import func, select

from foof.domain import passwords
from foof.extensions import db
from foof.models import Chat, User, VerifyCode

TOO_FREQUENT = {"status": "failure", "info": "request too frequent"}
PHONE = "13999999999"


@pytest.fixture
def config(config, tmp_path):
    config["FOOF_UPLOAD_ROOT"] = str(tmp_path / "upload")
    return config


def sha1(text):
    return hashlib.sha1(text.encode()).hexdigest()


def at_once(app, count, request, prepare=None):
    """Run ``request(client, index)`` in ``count`` threads released together; the answers
    (parsed JSON bodies) in index order. ``prepare(client, index)`` runs before the barrier."""
    start = threading.Barrier(count)
    answers = [None] * count
    errors = []

    def run(index):
        client = app.test_client()
        try:
            if prepare is not None:
                prepare(client, index)
            start.wait(60)
            reply = request(client, index)
            answers[index] = json.loads(reply.get_data())
            assert reply.status_code == 200, (reply.status_code, answers[index])
        except BaseException as exc:  # noqa: BLE001 - reported below, with the thread's index
            errors.append((index, repr(exc)))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    assert not errors, errors[:3]
    return answers


@pytest.fixture
def checked(monkeypatch):
    """Counts the passwords (and reset answers) actually checked."""
    calls = []
    lock = threading.Lock()
    real = passwords.check

    def counting(stored, password):
        with lock:
            calls.append(password)
        return real(stored, password)

    monkeypatch.setattr(passwords, "check", counting)
    return calls


def rest_json(client, method, path, body, **kwargs):
    return client.open(path, method=method, data=json.dumps(body), content_type="application/json", **kwargs)


def states(answers):
    return sorted((a["state"], a["message"]) for a in answers)


def test_legacy_login_40_wrong_at_once_checks_exactly_10(app, make_user, checked):
    make_user(PHONE, "pw")
    answers = at_once(app, 40, lambda c, i: c.post("/user/login", data={"phonenumber": PHONE, "password": f"bad{i}"}))
    assert sum(a == {"status": "failure", "info": "password incorrect"} for a in answers) == 10
    assert sum(a == TOO_FREQUENT for a in answers) == 30
    assert len(checked) == 10


def test_rest_login_40_wrong_at_once_through_both_names_checks_exactly_10(app, make_user, checked):
    make_user(PHONE, sha1("pw"))
    web = app.test_client()
    rest_json(web, "POST", "/users/sessions", {"username": PHONE, "password": "pw"})  # creates the profile
    with app.app_context():
        from foof.models import UserProfile

        db.session.execute(UserProfile.__table__.update().values(login="owner111"))
        db.session.commit()
    checked.clear()

    def attempt(client, i):
        if i % 4 == 0:
            return client.post("/user/login", data={"phonenumber": PHONE, "password": sha1("bad")})
        name = "owner111" if i % 2 else PHONE
        return rest_json(client, "POST", "/users/sessions", {"username": name, "password": f"bad{i}"})

    answers = at_once(app, 40, attempt)
    wrong = [
        a
        for a in answers
        if a
        in (
            {"status": "failure", "info": "password incorrect"},
            {"state": 4002, "message": "密码验证失败", "data": None},
        )
    ]
    limited = [
        a
        for a in answers
        if a in (TOO_FREQUENT, {"state": 4002, "message": "尝试次数过多，请15分钟后再试", "data": None})
    ]
    assert (len(wrong), len(limited), len(checked)) == (10, 30, 10), answers


def test_reset_answers_at_once_by_name_and_phone_check_exactly_10(app, make_user, checked):
    uuid = make_user(PHONE, sha1("pw"))
    with app.app_context():
        from foof.domain import clock
        from foof.models import UserProfile

        db.session.add(
            UserProfile(
                uuid=uuid,
                login="owner111",
                reset_question="q",
                reset_answer=passwords.hash_password("happy"),
                role="3",
                identified="0",
                alias="",
                created_at=clock.now(),
            )
        )
        db.session.commit()
    answers = at_once(
        app,
        30,
        lambda c, i: rest_json(
            c,
            "POST",
            "/users/password/reset",
            {"username": "owner111" if i % 2 else PHONE, "resetAnswer": f"sad{i}", "newPassword": "n3wpass"},
        ),
    )
    assert states(answers) == [(4002, "密码验证失败")] * 10 + [(4002, "尝试次数过多，请15分钟后再试")] * 20
    assert len(checked) == 10


def test_old_password_guesses_at_once_check_exactly_10(app, make_user, token_for, checked):
    uuid = make_user(PHONE, sha1("123456"))
    token = token_for(uuid)
    answers = at_once(
        app,
        25,
        lambda c, i: rest_json(
            c,
            "PATCH",
            "/users/password",
            {"oldPassword": f"wrong{i}", "newPassword": "abcdefg"},
            headers={"Authorization": f"Bearer {token}"},
        ),
    )
    assert states(answers) == [(4002, "密码验证失败")] * 10 + [(4002, "尝试次数过多，请15分钟后再试")] * 15
    assert len(checked) == 10
    with app.app_context():
        assert passwords.check(db.session.get(User, uuid).password, sha1("123456"))[0]


def requirecode(ip, phone):
    def send(client, i):
        client.environ_base["REMOTE_ADDR"] = ip
        return client.post("/user/requirecode", data={"phonenumber": phone(i)})

    return send


def test_sms_codes_for_one_number_at_once_send_exactly_one(app, outbox):
    answers = at_once(app, 20, requirecode("10.0.0.1", lambda i: PHONE))
    assert sum(a["status"] == "success" for a in answers) == 1
    assert sum(a == TOO_FREQUENT for a in answers) == 19
    assert len(outbox("sms")) == 1
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(VerifyCode)).scalar() == 1


def test_sms_codes_from_one_address_at_once_send_exactly_30(app, outbox):
    answers = at_once(app, 40, requirecode("10.0.0.2", lambda i: f"1390000{i:04d}"))
    assert sum(a["status"] == "success" for a in answers) == 30
    assert sum(a == TOO_FREQUENT for a in answers) == 10
    assert len(outbox("sms")) == 30


def test_sms_codes_per_number_per_day_hold_at_once(app, outbox, clock):
    send = requirecode("10.0.0.3", lambda i: PHONE)
    client = app.test_client()
    for _ in range(9):  # 9 of the day's 10, a minute apart
        assert send(client, 0).json["status"] == "success"
        clock.advance(61)
    answers = at_once(app, 10, requirecode("10.0.0.4", lambda i: PHONE))
    assert sum(a["status"] == "success" for a in answers) == 1
    clock.advance(61)
    assert send(client, 0).json == TOO_FREQUENT  # the 10 of the day are used up


def test_chat_pushes_at_once_store_exactly_the_limit(app, make_user, token_for):
    sender, to = make_user("1", "p"), make_user("2", "p")
    token = token_for(sender)
    answers = at_once(
        app, 45, lambda c, i: c.post("/user/chat/push", data={"token": token, "to": to, "type": 1, "data": f"m{i}"})
    )
    assert sum(a == {"status": "success"} for a in answers) == 30
    assert sum(a == TOO_FREQUENT for a in answers) == 15
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Chat)).scalar() == 30


def test_rest_registrations_from_one_address_at_once_create_exactly_10(app):
    def register(client, i):
        client.environ_base["REMOTE_ADDR"] = "10.0.0.9"
        return rest_json(
            client,
            "POST",
            "/users",
            {"username": f"user{i:04d}", "password": "123456", "resetQuestion": "q", "resetAnswer": "a"},
        )

    answers = at_once(app, 16, register)
    assert states(answers) == [(200, None)] * 10 + [(4002, "注册次数过多，请24小时后再试")] * 6
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(User)).scalar() == 10
