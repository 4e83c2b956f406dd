"""Issue #11, accounts: phone numbers proved by SMS, password changes that log everyone out,
guess limits per account, chat flood control, login names that look like phone numbers.

Items 3, 5, 11, 12, 17, 18, driven through the real routes of both faces one request at a
time; the same limits under attempts sent at once are in ``tests/test_limits_concurrency.py``.
"""

import hashlib
import json

import pytest
from sqlalchemy import select

from foof.domain import tokens
from foof.extensions import db
from foof.models import UserProfile, WebSession
from tests.conftest import http_post, table_snapshot

TOO_FREQUENT = {"status": "failure", "info": "request too frequent"}
BAD_CODE_STATE = (4005, "手机验证码错误或已失效")
TOO_MANY_REGISTRATIONS = (4002, "注册次数过多，请24小时后再试")
TOO_MANY_ATTEMPTS = (4002, "尝试次数过多，请15分钟后再试")
PHONE = "13999999999"


@pytest.fixture
def config(config, tmp_path):
    config["FOOF_UPLOAD_ROOT"] = str(tmp_path / "upload")
    return config


def sha1(text):
    return hashlib.sha1(text.encode()).hexdigest()


def rest(client, method, path, body=None, token=None, **kwargs):
    """The envelope of a secondhand call (JSON body, keys in order; Bearer when ``token``)."""
    if body is not None:
        kwargs.update(data=json.dumps(body, ensure_ascii=False), content_type="application/json")
    if token is not None:
        kwargs["headers"] = {"Authorization": f"Bearer {token}"}
    reply = client.open(path, method=method, **kwargs)
    answer = json.loads(reply.get_data())
    assert list(answer) == ["state", "message", "data"], answer
    return answer


def state(answer):
    return answer["state"], answer["message"]


def legacy(client, path, **fields):
    reply = client.post(path, data={k: str(v) for k, v in fields.items()})
    assert reply.status_code in (200, 403), (path, reply.status_code)
    return reply.status_code, (json.loads(reply.get_data()) if reply.status_code == 200 else None)


def rest_person(app, name, password="123456", answer="happy", ip="10.0.0.1"):
    """A secondhand account, logged in: ``(client with its cookie, uuid)``."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    assert state(
        rest(
            client,
            "POST",
            "/users",
            {"username": name, "password": password, "resetQuestion": "q", "resetAnswer": answer},
        )
    ) == (200, None)
    login = rest(client, "POST", "/users/sessions", {"username": name, "password": password})
    assert state(login) == (200, None), login
    return client, int(login["data"]["id"])


def ask_code(client, phone):
    assert client.post("/user/requirecode", data={"phonenumber": phone}).json["status"] == "success"


def last_code(outbox, phone):
    return [m["code"] for m in outbox("sms") if m["phonenumber"] == phone][-1]


def legacy_login(client, phone, password):
    return client.post("/user/login", data={"phonenumber": phone, "password": password}).json


# --- item 3: a phone number is proved by its SMS code ---------------------------------------


def test_phone_number_without_its_code_is_refused_and_the_owner_can_register(app, client, outbox):
    hostile, _ = rest_person(app, "hostile1")
    before = table_snapshot(app)
    assert state(rest(hostile, "POST", "/users/detail", {"phoneNumber": PHONE})) == BAD_CODE_STATE
    assert table_snapshot(app) == before  # nothing written on refusal
    # the hostile account cannot log in with the number, and the owner is not blocked
    assert legacy_login(client, PHONE, sha1("123456")) == {"status": "failure", "info": "user not found"}
    assert rest(hostile, "GET", "/users/detail")["data"]["phoneNumber"] is None
    ask_code(client, PHONE)
    assert client.post(
        "/user/register", data={"phonenumber": PHONE, "verifycode": last_code(outbox, PHONE), "password": "owner"}
    ).json == {"status": "success"}


def test_a_code_for_another_number_or_a_wrong_code_is_refused(app, client, outbox):
    hostile, _ = rest_person(app, "hostile1")
    ask_code(client, "13900000000")  # the attacker's own number: its code does not prove PHONE
    own_code = last_code(outbox, "13900000000")
    assert (
        state(rest(hostile, "POST", "/users/detail", {"phoneNumber": PHONE, "verifyCode": own_code})) == BAD_CODE_STATE
    )
    ask_code(client, PHONE)
    code = last_code(outbox, PHONE)
    wrong = "0000" if code != "0000" else "1111"
    for _ in range(5):  # registration's rule: 5 wrong tries burn the code
        assert (
            state(rest(hostile, "POST", "/users/detail", {"phoneNumber": PHONE, "verifyCode": wrong})) == BAD_CODE_STATE
        )
    assert state(rest(hostile, "POST", "/users/detail", {"phoneNumber": PHONE, "verifyCode": code})) == BAD_CODE_STATE
    assert legacy_login(client, PHONE, sha1("123456"))["info"] == "user not found"


def test_the_right_code_sets_the_number_once_and_an_unchanged_number_needs_none(app, client, outbox, clock):
    person, uuid = rest_person(app, "owner111")
    ask_code(client, PHONE)
    code = last_code(outbox, PHONE)
    body = {"phoneNumber": PHONE, "verifyCode": code, "alias": "小王"}
    assert state(rest(person, "POST", "/users/detail", body)) == (200, None)
    detail = rest(person, "GET", "/users/detail")["data"]
    assert (detail["phoneNumber"], detail["alias"]) == (PHONE, "小王")
    answer = legacy_login(client, PHONE, sha1("123456"))
    assert (answer["status"], answer["info"]["uuid"]) == ("success", uuid)
    # the app resends the whole form: the same number needs no code (and the used code is spent)
    assert state(rest(person, "POST", "/users/detail", {"phoneNumber": PHONE, "alias": "小李"})) == (200, None)
    assert state(rest(person, "POST", "/users/detail", {"phoneNumber": PHONE, "verifyCode": code})) == (200, None)
    assert rest(person, "GET", "/users/detail")["data"]["alias"] == "小李"
    # a second new number needs its own code; the used one does not count again
    clock.advance(61)
    assert (
        state(rest(person, "POST", "/users/detail", {"phoneNumber": "13999999998", "verifyCode": code}))
        == BAD_CODE_STATE
    )
    assert rest(person, "GET", "/users/detail")["data"]["phoneNumber"] == PHONE


def test_a_number_owned_by_another_account_is_refused_before_the_code_is_spent(app, client, outbox, make_user):
    make_user(PHONE, sha1("owner"))
    hostile, _ = rest_person(app, "hostile1")
    ask_code(client, PHONE)
    code = last_code(outbox, PHONE)
    answer = rest(hostile, "POST", "/users/detail", {"phoneNumber": PHONE, "verifyCode": code})
    assert state(answer) == (4005, "手机号已被其他账号使用")
    # the code is still live (the refusal did not use it): the owner's reset works with it
    assert client.post("/user/reset", data={"phonenumber": PHONE, "verifycode": code, "password": "new"}).json == {
        "status": "success"
    }


def test_rest_registration_is_limited_per_client_address(app, clock):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.1.1.1"
    body = {"password": "123456", "resetQuestion": "q", "resetAnswer": "a"}
    for n in range(10):
        assert state(rest(client, "POST", "/users", {"username": f"user{n:04d}", **body})) == (200, None)
    before = table_snapshot(app)
    assert state(rest(client, "POST", "/users", {"username": "user0010", **body})) == TOO_MANY_REGISTRATIONS
    assert table_snapshot(app) == before
    # a taken name is refused before the limit is counted, and another address is not limited
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.1.1.2"
    assert state(rest(other, "POST", "/users", {"username": "user0000", **body}))[0] == 4000
    assert state(rest(other, "POST", "/users", {"username": "user0010", **body})) == (200, None)
    clock.advance(86400)
    assert state(rest(client, "POST", "/users", {"username": "user0011", **body})) == (200, None)


def test_registration_limit_follows_the_setting(app, config):
    app.config["FOOF_REGISTRATIONS_PER_IP_PER_DAY"] = 2
    client = app.test_client()
    body = {"password": "123456", "resetQuestion": "q", "resetAnswer": "a"}
    assert [state(rest(client, "POST", "/users", {"username": f"u{n}xx", **body}))[0] for n in range(3)] == [
        200,
        200,
        4002,
    ]
    app.config["FOOF_REGISTRATIONS_PER_IP_PER_DAY"] = 0  # off
    assert state(rest(client, "POST", "/users", {"username": "u9xx", **body}))[0] == 200


# --- item 5: a password change or reset logs everybody out ----------------------------------


def me_status(client, token):
    return client.post("/user/me", data={"token": token}).status_code


def fetchnew_status(client, token):
    return client.post("/user/chat/fetchnew", data={"token": token}).status_code


def rest_status(client, token=None):
    return rest(client, "GET", "/users/detail", token=token)["state"]


def test_legacy_reset_refuses_old_tokens_and_ends_rest_sessions(app, client, outbox, make_user):
    uuid = make_user(PHONE, sha1("old"))
    old = legacy_login(client, PHONE, sha1("old"))["token"]
    web = app.test_client()
    assert state(rest(web, "POST", "/users/sessions", {"username": PHONE, "password": "old"})) == (200, None)
    assert (me_status(client, old), fetchnew_status(client, old), rest_status(web), rest_status(client, old)) == (
        200,
        200,
        200,
        200,
    )
    ask_code(client, PHONE)
    assert client.post(
        "/user/reset", data={"phonenumber": PHONE, "verifycode": last_code(outbox, PHONE), "password": sha1("new")}
    ).json == {"status": "success"}
    # /user/me (Flask route), fetchnew (the hot path), REST cookie and REST Bearer: all refused
    assert (me_status(client, old), fetchnew_status(client, old), rest_status(web), rest_status(client, old)) == (
        403,
        403,
        4003,
        4003,
    )
    with app.app_context():
        assert db.session.execute(select(WebSession).where(WebSession.uuid == uuid)).first() is None
    new = legacy_login(client, PHONE, sha1("new"))["token"]
    assert (me_status(client, new), fetchnew_status(client, new), rest_status(client, new)) == (200, 200, 200)


def test_modify_with_a_new_password_refuses_the_old_token(app, client, make_user):
    make_user(PHONE, "old")
    old = legacy_login(client, PHONE, "old")["token"]
    other_device = legacy_login(client, PHONE, "old")["token"]
    # an empty password is "unchanged": the tokens stay valid
    assert client.post("/user/modify", data={"token": old, "username": "x", "password": ""}).json == {
        "status": "success"
    }
    assert me_status(client, old) == 200
    assert client.post("/user/modify", data={"token": old, "password": "new"}).json == {"status": "success"}
    assert (me_status(client, old), me_status(client, other_device), fetchnew_status(client, other_device)) == (
        403,
        403,
        403,
    )
    new = legacy_login(client, PHONE, "new")["token"]
    assert me_status(client, new) == 200


def test_patch_password_keeps_the_callers_session_only(app, client, make_user):
    uuid = make_user(PHONE, sha1("123456"))
    token = legacy_login(client, PHONE, sha1("123456"))["token"]
    mine, theirs = app.test_client(), app.test_client()
    for web in (mine, theirs):
        assert state(rest(web, "POST", "/users/sessions", {"username": PHONE, "password": "123456"})) == (200, None)
    answer = rest(mine, "PATCH", "/users/password", {"oldPassword": "123456", "newPassword": "abcdefg"})
    assert state(answer) == (200, None)
    assert (rest_status(mine), rest_status(theirs), rest_status(client, token), me_status(client, token)) == (
        200,
        4003,
        4003,
        403,
    )
    # PATCH through a Bearer token: the token itself predates the change, so it ends too
    token = legacy_login(client, PHONE, sha1("abcdefg"))["token"]
    assert state(
        rest(client, "PATCH", "/users/password", {"oldPassword": "abcdefg", "newPassword": "1234567"}, token=token)
    ) == (200, None)
    assert (rest_status(client, token), rest_status(mine)) == (4003, 4003)
    assert uuid == int(
        rest(app.test_client(), "POST", "/users/sessions", {"username": PHONE, "password": "1234567"})["data"]["id"]
    )


def test_rest_reset_ends_every_session_and_token(app, client, outbox):
    person, uuid = rest_person(app, "owner111")
    ask_code(client, PHONE)
    assert state(
        rest(person, "POST", "/users/detail", {"phoneNumber": PHONE, "verifyCode": last_code(outbox, PHONE)})
    ) == (200, None)
    token = legacy_login(client, PHONE, sha1("123456"))["token"]
    answer = rest(
        app.test_client(),
        "POST",
        "/users/password/reset",
        {"username": "owner111", "resetAnswer": "happy", "newPassword": "n3wpass"},
    )
    assert state(answer) == (200, None)
    assert (rest_status(person), rest_status(client, token), me_status(client, token)) == (4003, 4003, 403)


def test_a_login_in_the_same_millisecond_as_the_change_is_valid_and_an_older_token_is_not(
    app, client, make_user, monkeypatch
):
    make_user(PHONE, "old")
    import time

    fixed = int(time.time()) - 10 + 0.123  # every mint and change below in this millisecond
    monkeypatch.setattr(tokens.time, "time", lambda: fixed)
    before = legacy_login(client, PHONE, "old")["token"]
    assert me_status(client, before) == 200  # now in the verified-token cache
    assert client.post("/user/modify", data={"token": before, "password": "new"}).json == {"status": "success"}
    after = legacy_login(client, PHONE, "new")["token"]  # same millisecond as the change
    assert (me_status(client, before), me_status(client, after)) == (403, 200)
    from jwt import decode

    from tests.conftest import JWT_SECRET

    claims = decode(after, JWT_SECRET, algorithms=["HS256"])
    assert claims["generate"] > int(fixed * 1000) and claims["iat"] == int(fixed)


def test_tokens_of_accounts_that_never_changed_their_password_still_work(app, client, user):
    uuid, token = user
    with app.app_context():
        old_style = tokens._mint(uuid)  # an old server's token: no exp
    assert (me_status(client, token), me_status(client, old_style)) == (200, 200)


def test_revoked_token_is_refused_on_the_served_hot_path(app, config, client, make_user, outbox):
    """Through the real service: on SQLite the fetchnew poll is answered on waitress's I/O thread."""
    from tests.conftest import start_server, stop_server

    make_user(PHONE, "old")
    old = legacy_login(client, PHONE, "old")["token"]
    proc, url = start_server(config)
    try:
        assert http_post(url + "/user/chat/fetchnew", {"token": old})[0] == 200
        assert http_post(url + "/user/modify", {"token": old, "password": "new"}) == (200, b'{"status":"success"}')
        assert http_post(url + "/user/chat/fetchnew", {"token": old})[0] == 403
        assert http_post(url + "/user/me", {"token": old})[0] == 403
    finally:
        stop_server(proc)


# --- items 11, 12: password guesses are counted per account ---------------------------------


def test_guesses_through_every_name_of_an_account_share_one_count(app, client, outbox, clock):
    person, uuid = rest_person(app, "owner111")
    ask_code(client, PHONE)
    assert state(
        rest(person, "POST", "/users/detail", {"phoneNumber": PHONE, "verifyCode": last_code(outbox, PHONE)})
    ) == (200, None)
    web = app.test_client()
    for n in range(10):  # 4 on the legacy face, 3 by login name, 3 by phone as REST username
        if n < 4:
            assert legacy_login(client, PHONE, sha1("bad"))["info"] == "password incorrect"
        else:
            name = "owner111" if n < 7 else PHONE
            assert state(rest(web, "POST", "/users/sessions", {"username": name, "password": "bad"}))[0] == 4002
    assert legacy_login(client, PHONE, sha1("123456")) == TOO_FREQUENT
    assert (
        state(rest(web, "POST", "/users/sessions", {"username": "owner111", "password": "123456"})) == TOO_MANY_ATTEMPTS
    )
    # oldPassword shares the count (a stolen session cannot guess the password either)
    assert (
        state(rest(person, "PATCH", "/users/password", {"oldPassword": "123456", "newPassword": "abcdefg"}))
        == TOO_MANY_ATTEMPTS
    )
    clock.advance(15 * 60)
    assert legacy_login(client, PHONE, sha1("123456"))["status"] == "success"


def test_a_successful_login_does_not_count(app, client, make_user):
    make_user(PHONE, "pw")
    for _ in range(9):
        assert legacy_login(client, PHONE, "bad")["info"] == "password incorrect"
    for _ in range(5):
        assert legacy_login(client, PHONE, "pw")["status"] == "success"
    assert legacy_login(client, PHONE, "bad")["info"] == "password incorrect"  # the 10th failure
    assert legacy_login(client, PHONE, "pw") == TOO_FREQUENT


def test_unknown_numbers_and_names_are_limited_too(app, client):
    for _ in range(10):
        assert legacy_login(client, "13700000000", "x")["info"] == "user not found"
    assert legacy_login(client, "13700000000", "x") == TOO_FREQUENT
    web = app.test_client()
    for _ in range(10):
        assert state(rest(web, "POST", "/users/sessions", {"username": "nobody", "password": "x"}))[0] == 4001
    assert state(rest(web, "POST", "/users/sessions", {"username": "nobody", "password": "x"})) == TOO_MANY_ATTEMPTS


def test_reset_answers_by_login_name_and_phone_share_one_count(app, client, outbox, clock):
    person, uuid = rest_person(app, "owner111")
    ask_code(client, PHONE)
    assert state(
        rest(person, "POST", "/users/detail", {"phoneNumber": PHONE, "verifyCode": last_code(outbox, PHONE)})
    ) == (200, None)
    web = app.test_client()
    for n in range(10):
        name = "owner111" if n % 2 else PHONE
        answer = rest(
            web, "POST", "/users/password/reset", {"username": name, "resetAnswer": "sad", "newPassword": "n3wpass"}
        )
        assert state(answer)[0] == 4002, answer
    for name in ("owner111", PHONE):
        answer = rest(
            web, "POST", "/users/password/reset", {"username": name, "resetAnswer": "happy", "newPassword": "n3wpass"}
        )
        assert state(answer) == TOO_MANY_ATTEMPTS
    assert state(rest(web, "POST", "/users/sessions", {"username": "owner111", "password": "123456"})) == (200, None)


def test_old_password_guesses_are_limited(app, make_user):
    person, uuid = rest_person(app, "owner111")
    for _ in range(10):
        answer = rest(person, "PATCH", "/users/password", {"oldPassword": "wrong", "newPassword": "abcdefg"})
        assert state(answer) == (4002, "密码验证失败")
    answer = rest(person, "PATCH", "/users/password", {"oldPassword": "123456", "newPassword": "abcdefg"})
    assert state(answer) == TOO_MANY_ATTEMPTS
    assert (
        state(rest(app.test_client(), "POST", "/users/sessions", {"username": "owner111", "password": "abcdefg"}))[0]
        == 4002
    )


# --- item 17: chat flood control ------------------------------------------------------------


def push(client, token, to, data="你好"):
    return client.post("/user/chat/push", data={"token": token, "to": to, "type": 1, "data": data}).json


def test_chat_push_is_limited_per_sender(app, client, make_user, token_for, clock):
    sender, other, to = make_user("1", "p"), make_user("2", "p"), make_user("3", "p")
    token, other_token = token_for(sender), token_for(other)
    for n in range(30):
        assert push(client, token, to, f"m{n}") == {"status": "success"}
    before = table_snapshot(app)
    assert push(client, token, to) == TOO_FREQUENT
    assert table_snapshot(app) == before
    assert push(client, other_token, to) == {"status": "success"}  # per sender
    # refused pushes (unknown recipient) do not count
    clock.advance(61)
    for _ in range(5):
        assert push(client, token, 999)["info"] == "no such user"
    for n in range(30):
        assert push(client, token, to) == {"status": "success"}
    assert push(client, token, to) == TOO_FREQUENT


def test_chat_limit_follows_the_setting(app, client, make_user, token_for):
    sender, to = make_user("1", "p"), make_user("3", "p")
    token = token_for(sender)
    app.config["FOOF_CHAT_PER_MINUTE"] = 2
    assert [push(client, token, to)["status"] for _ in range(3)] == ["success", "success", "failure"]
    app.config["FOOF_CHAT_PER_MINUTE"] = 0  # off
    assert push(client, token, to) == {"status": "success"}


# --- item 18: login names that look like phone numbers --------------------------------------


@pytest.mark.parametrize("name", ["13800000001", "123", "+8613800000001", "00000000000000000000"])
def test_phone_like_login_names_are_refused(app, name):
    client = app.test_client()
    before = table_snapshot(app)
    answer = rest(
        client, "POST", "/users", {"username": name, "password": "123456", "resetQuestion": "q", "resetAnswer": "a"}
    )
    assert state(answer) == (4005, "输入数据不合法")
    assert table_snapshot(app) == before


def test_names_with_digits_and_letters_are_still_allowed(app):
    rest_person(app, "2019abc")
    rest_person(app, "138x0000001")


def test_a_phone_number_finds_the_phones_account_before_a_login_name(app, make_user):
    owner = make_user(PHONE, sha1("owner-pw"))
    shadow, shadow_uuid = rest_person(app, "shadow1", password="shadow-pw")
    with app.app_context():  # a digit login made before such names were refused
        db.session.execute(UserProfile.__table__.update().where(UserProfile.uuid == shadow_uuid).values(login=PHONE))
        db.session.commit()
    web = app.test_client()
    answer = rest(web, "POST", "/users/sessions", {"username": PHONE, "password": "owner-pw"})
    assert (state(answer), int(answer["data"]["id"])) == ((200, None), owner)
    assert state(rest(web, "POST", "/users/sessions", {"username": PHONE, "password": "shadow-pw"}))[0] == 4002
    # a digit login that is no account's phone number still logs in
    with app.app_context():
        db.session.execute(UserProfile.__table__.update().where(UserProfile.uuid == shadow_uuid).values(login="12345"))
        db.session.commit()
    answer = rest(web, "POST", "/users/sessions", {"username": "12345", "password": "shadow-pw"})
    assert int(answer["data"]["id"]) == shadow_uuid


def test_a_missing_code_is_refused_without_spending_a_try(app, client, outbox):
    person, uuid = rest_person(app, "owner111")
    ask_code(client, PHONE)
    for body in (
        {"phoneNumber": PHONE},
        {"phoneNumber": PHONE, "verifyCode": ""},
        {"phoneNumber": PHONE, "verifyCode": None},
    ) * 2:
        assert state(rest(person, "POST", "/users/detail", body)) == BAD_CODE_STATE
    body = {"phoneNumber": PHONE, "verifyCode": last_code(outbox, PHONE)}
    assert state(rest(person, "POST", "/users/detail", body)) == (200, None)


from tests.test_auth import TOKEN_ROUTES  # noqa: E402 - every legacy token route, from the URL map


@pytest.mark.parametrize("route", [r for r in TOKEN_ROUTES if "<" not in r])
def test_every_legacy_token_route_refuses_a_token_issued_before_the_password_change(app, client, user, route):
    from foof.domain import accounts
    from foof.domain.tx import atomic

    uuid, token = user
    assert me_status(client, token) == 200  # verified once: the token is in the cache
    with app.app_context():
        atomic(accounts.password_changed, uuid)
    before = table_snapshot(app)
    assert client.post(route, data={"token": token}).status_code == 403
    assert client.post(route, json={"token": token}).status_code == 403
    assert table_snapshot(app) == before


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/users/detail"),
        ("GET", "/orders/buy"),
        ("GET", "/orders/sell"),
        ("POST", "/users/detail"),
        ("PATCH", "/users/password"),
    ],
)
def test_rest_bearer_refuses_a_token_issued_before_the_password_change(app, client, user, method, path):
    from foof.domain import accounts
    from foof.domain.tx import atomic

    uuid, token = user
    with app.app_context():
        atomic(accounts.password_changed, uuid)
    answer = rest(
        client, method, path, {"oldPassword": "pw", "newPassword": "abcdefg"} if method != "GET" else None, token=token
    )
    assert state(answer) == (4003, "用户未登录")
