"""SMS codes and their limits (docs/legacy-wire.md §5-§8), driven by an injected clock instead of sleeps."""

import pytest

INVALID = {"status": "failure", "info": "invaild request"}
BAD_CODE = {"status": "failure", "info": "bad verify code"}
TOO_FREQUENT = {"status": "failure", "info": "request too frequent"}
OK = {"status": "success"}


def ask(client, phone, ip="10.0.0.1"):
    return client.post("/user/requirecode", data={"phonenumber": phone}, environ_base={"REMOTE_ADDR": ip}).json


def register(client, phone, code, password="pw"):
    return client.post("/user/register", data={"phonenumber": phone, "verifycode": code, "password": password}).json


def last_code(outbox, phone):
    return [m for m in outbox("sms") if m["phonenumber"] == phone][-1]["code"]


def test_code_goes_to_outbox_not_reply(client, outbox):
    assert ask(client, "13900000000") == {"status": "success", "data": {"id": "13900000000"}}
    sms = outbox("sms")
    assert len(sms) == 1 and sms[0]["phonenumber"] == "13900000000"
    assert len(sms[0]["code"]) == 4 and sms[0]["code"].isdigit()


def test_echo_flag_restores_legacy_leak(config):
    from foof import create_app

    config["FOOF_ECHO_VERIFY_CODE"] = True
    app = create_app(config)
    with app.app_context():
        from foof.cli import create_schema

        create_schema()
    reply = app.test_client().post("/user/requirecode", data={"phonenumber": "1"}).json
    assert reply["data"]["id"] == "1" and len(reply["data"]["code"]) == 4


def test_codes_are_stored_hashed(app, client, outbox):
    ask(client, "1")
    code = last_code(outbox, "1")
    with app.app_context():
        from foof.extensions import db
        from foof.models import VerifyCode

        row = db.session.query(VerifyCode).one()
        assert code not in row.code_hash and len(row.code_hash) == 64


@pytest.mark.parametrize("phone", ["", "abc", "123456789012345678901", "12 34", "++1", "1-2", None])
def test_bad_numbers(client, phone):
    data = {} if phone is None else {"phonenumber": phone}
    assert client.post("/user/requirecode", data=data).json == INVALID


def test_sixty_seconds_between_codes(client, clock):
    assert ask(client, "1")["status"] == "success"
    clock.advance(59)
    assert ask(client, "1") == TOO_FREQUENT
    clock.advance(1)
    assert ask(client, "1")["status"] == "success"
    assert ask(client, "2")["status"] == "success"  # another number is not held up


def test_daily_cap_per_number(client, clock):
    for _ in range(10):
        assert ask(client, "1")["status"] == "success"
        clock.advance(61)
    assert ask(client, "1") == TOO_FREQUENT
    clock.advance(86400)
    assert ask(client, "1")["status"] == "success"


def test_daily_cap_per_ip(client, clock):
    for n in range(30):
        assert ask(client, f"1{n:03d}", ip="10.9.9.9")["status"] == "success"
    assert ask(client, "1999", ip="10.9.9.9") == TOO_FREQUENT
    assert ask(client, "1999", ip="10.9.9.8")["status"] == "success"


def test_code_expires_after_ten_minutes(client, clock, outbox):
    ask(client, "1")
    code = last_code(outbox, "1")
    clock.advance(600)
    assert register(client, "1", code) == INVALID


def test_code_valid_just_before_expiry(client, clock, outbox):
    ask(client, "1")
    clock.advance(599)
    assert register(client, "1", last_code(outbox, "1")) == OK


def test_five_wrong_tries_burn_the_code(client, outbox):
    ask(client, "1")
    code = last_code(outbox, "1")
    wrong = "0000" if code != "0000" else "1111"
    for _ in range(5):
        assert register(client, "1", wrong) == BAD_CODE
    assert register(client, "1", code) == INVALID


def test_four_wrong_tries_then_right(client, outbox):
    ask(client, "1")
    code = last_code(outbox, "1")
    wrong = "0000" if code != "0000" else "1111"
    for _ in range(4):
        assert register(client, "1", wrong) == BAD_CODE
    assert register(client, "1", code) == OK


def test_code_is_used_once(client, outbox):
    ask(client, "1")
    code = last_code(outbox, "1")
    assert register(client, "1", code) == OK
    assert client.post("/user/reset", data={"phonenumber": "1", "verifycode": code, "password": "x"}).json == INVALID


def test_code_only_for_its_own_number(client, outbox):
    ask(client, "1")
    ask(client, "2")
    code1, code2 = last_code(outbox, "1"), last_code(outbox, "2")
    if code1 != code2:
        assert register(client, "2", code1) == BAD_CODE
    assert register(client, "1", code1) == OK  # not consumed by number 2's attempt
    assert register(client, "2", code2) == OK


def test_success_for_one_number_keeps_other_codes(client, outbox):
    """The old server wiped every phone's code on any success."""
    ask(client, "1")
    ask(client, "2")
    assert register(client, "1", last_code(outbox, "1")) == OK
    assert register(client, "2", last_code(outbox, "2")) == OK


def test_new_code_replaces_old(client, outbox, clock):
    ask(client, "1")
    first = last_code(outbox, "1")
    clock.advance(60)
    ask(client, "1")
    second = last_code(outbox, "1")
    if first != second:
        assert register(client, "1", first) == BAD_CODE
    assert register(client, "1", second) == OK


def test_no_code_requested(client):
    assert register(client, "1", "1234") == INVALID


def test_register_rules(client, outbox, make_user):
    make_user("2", "pw")
    ask(client, "2")
    assert register(client, "2", last_code(outbox, "2")) == {"status": "failure", "info": "phone number already token"}
    ask(client, "3")
    assert register(client, "3", last_code(outbox, "3"), password="") == INVALID
    assert register(client, "3", last_code(outbox, "3")) == OK  # the code survived the refusal


def test_register_ignores_uuid_and_score(client, outbox):
    ask(client, "1")
    reply = client.post(
        "/user/register",
        data={
            "phonenumber": "1",
            "verifycode": last_code(outbox, "1"),
            "password": "pw",
            "uuid": "999",
            "score": "100000",
            "verified": "1",
        },
    ).json
    assert reply == OK
    me = client.post("/user/login", data={"phonenumber": "1", "password": "pw"}).json["info"]
    assert (me["uuid"], me["score"], me["verified"]) == (1, 10, 0)


def test_reset_password(client, outbox, make_user):
    make_user("1", "old")
    assert (
        client.post("/user/reset", data={"phonenumber": "1", "verifycode": "1234", "password": "new"}).json == INVALID
    )
    ask(client, "1")
    code = last_code(outbox, "1")
    wrong = "0000" if code != "0000" else "1111"
    assert (
        client.post("/user/reset", data={"phonenumber": "1", "verifycode": wrong, "password": "new"}).json == BAD_CODE
    )
    assert client.post("/user/reset", data={"phonenumber": "1", "verifycode": code, "password": "new"}).json == OK
    assert client.post("/user/login", data={"phonenumber": "1", "password": "old"}).json["info"] == "password incorrect"
    assert client.post("/user/login", data={"phonenumber": "1", "password": "new"}).json["status"] == "success"


def test_reset_unknown_number(client, outbox):
    ask(client, "7")
    assert (
        client.post(
            "/user/reset", data={"phonenumber": "7", "verifycode": last_code(outbox, "7"), "password": "x"}
        ).json
        == INVALID
    )


def test_login_failure_limit(client, make_user, clock):
    make_user("1", "pw")
    for _ in range(10):
        assert (
            client.post("/user/login", data={"phonenumber": "1", "password": "bad"}).json["info"]
            == "password incorrect"
        )
    assert client.post("/user/login", data={"phonenumber": "1", "password": "pw"}).json == TOO_FREQUENT
    clock.advance(15 * 60)
    assert client.post("/user/login", data={"phonenumber": "1", "password": "pw"}).json["status"] == "success"


def test_failed_resend_keeps_the_code_already_received(app, client, outbox, clock):
    from foof.domain.errors import SendFailed

    ask(client, "1")
    first = last_code(outbox, "1")
    working = app.extensions["foof.senders"]

    class Broken:
        def send(self, phonenumber, code):
            raise SendFailed()

    app.extensions["foof.senders"] = (Broken(), working[1])
    clock.advance(61)
    assert ask(client, "1") == {"status": "server error"}
    app.extensions["foof.senders"] = working
    assert register(client, "1", first) == OK
