"""The legacy wire format (docs/legacy-wire.md §1-§2): the renderer on its own, then over HTTP.

Expected values are what koa's ``JSON.stringify`` and ``Number.prototype.toString`` print,
as docs/legacy-wire.md §2 requires, not what the renderer happens to do.
"""

import hashlib
import io
import json
import os
from datetime import datetime

import pytest
from sqlalchemy import text

from foof.domain import tokens
from foof.extensions import db
from foof.legacy.render import dumps

JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
MIB = 1024 * 1024


def sha1(value):
    return hashlib.sha1(value.encode("utf-8")).hexdigest()


def multipart(fields, files=()):
    """``{"data": bytes, "content_type": ...}`` for a multipart/form-data body built in memory
    (the test client spools big multipart bodies to temporary files it never closes)."""
    boundary = "----foofboundary7MA4YWxkTrZu0gW"
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(str(value).encode("utf-8") + b"\r\n")
    for name, filename, content in files:
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        )
        out.write(content + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return {"data": out.getvalue(), "content_type": f"multipart/form-data; boundary={boundary}"}


# --------------------------------------------------------------------------------------------
# Numbers: Number.prototype.toString


@pytest.mark.parametrize(
    "value, expected",
    [
        (987.0, "987"),
        (1.23, "1.23"),
        (12.5, "12.5"),
        (-1.5, "-1.5"),
        (100.0, "100"),
        (0.0, "0"),
        (-0.0, "0"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1e21, "1e+21"),
        (1.2345e21, "1.2345e+21"),
        (1e20, "100000000000000000000"),
        (123456789012345680000.0, "123456789012345680000"),
        (9007199254740992.0, "9007199254740992"),
        (1e-7, "1e-7"),
        (1.2e-7, "1.2e-7"),
        (0.000001, "0.000001"),
        (0.0000012, "0.0000012"),
        (1.5e-10, "1.5e-10"),
        (123e-20, "1.23e-18"),
        (1e100, "1e+100"),
        (-2.5e-8, "-2.5e-8"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (float("nan"), "null"),
        (float("inf"), "null"),
        (float("-inf"), "null"),
    ],
)
def test_js_number(value, expected):
    assert dumps(value) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        (0, "0"),
        (987, "987"),
        (-3, "-3"),
        (True, "true"),
        (False, "false"),
        (None, "null"),
    ],
)
def test_scalars(value, expected):
    assert dumps(value) == expected


def test_numbers_inside_containers():
    assert dumps({"price": 987.0, "list": [1.0, 2.5, float("nan")]}) == '{"price":987,"list":[1,2.5,null]}'


# --------------------------------------------------------------------------------------------
# Strings: raw UTF-8, "/" unescaped, control characters escaped


def test_chinese_and_emoji_stay_raw():
    assert dumps("东大杂货铺😀") == '"东大杂货铺😀"'
    assert dumps({"info": "这家伙很懒，什么都没有写＞︿＜"}) == '{"info":"这家伙很懒，什么都没有写＞︿＜"}'
    assert "\\u" not in dumps({"表情": "👍🏻 éà"})


def test_slash_not_escaped():
    assert dumps("image/avatar/default.jpg") == '"image/avatar/default.jpg"'
    assert dumps("</script>") == '"</script>"'


@pytest.mark.parametrize(
    "value, expected",
    [
        ('"', r'"\""'),
        ("\\", r'"\\"'),
        ("\n", r'"\n"'),
        ("\r", r'"\r"'),
        ("\t", r'"\t"'),
        ("\b", r'"\b"'),
        ("\f", r'"\f"'),
        ("\x00", r'"\u0000"'),
        ("\x01", r'"\u0001"'),
        ("\x1b", r'"\u001b"'),
        ("\x1f", r'"\u001f"'),
        ("\x7f", '"\x7f"'),  # DEL is not a JSON control character
        ("\u2028\u2029", '"\u2028\u2029"'),  # JSON.stringify leaves these raw
        ('a\nb"c\\d', r'"a\nb\"c\\d"'),
    ],
)
def test_control_characters(value, expected):
    assert dumps(value) == expected
    assert json.loads(dumps(value)) == value


def test_keys_are_escaped_like_strings():
    assert dumps({'a"b': 1, "名字": 2, "x/y": 3}) == '{"a\\"b":1,"名字":2,"x/y":3}'


# --------------------------------------------------------------------------------------------
# Structure: compact, key order kept; datetimes


def test_compact_and_key_order_kept():
    value = {"z": 1, "a": [1, "two", None, True], "m": {"y": {}, "b": []}, "status": "success"}
    assert dumps(value) == '{"z":1,"a":[1,"two",null,true],"m":{"y":{},"b":[]},"status":"success"}'


def test_tuple_is_an_array():
    assert dumps((1, "a")) == '[1,"a"]'


@pytest.mark.parametrize(
    "value, expected",
    [
        (datetime(2019, 9, 4, 14, 29, 5), '"2019-09-04T14:29:05.000Z"'),
        (datetime(2019, 9, 4, 14, 29, 5, 123000), '"2019-09-04T14:29:05.123Z"'),
        (datetime(2020, 1, 2, 3, 4, 5, 7000), '"2020-01-02T03:04:05.007Z"'),
        (datetime(2021, 12, 31, 23, 59, 59, 999000), '"2021-12-31T23:59:59.999Z"'),
    ],
)
def test_datetimes(value, expected):
    assert dumps(value) == expected
    assert dumps({"createdAt": value}) == '{"createdAt":' + expected + "}"


# --------------------------------------------------------------------------------------------
# Over HTTP: replies


def login(client, phonenumber="13800000001", password=None, path="/user/login", **kwargs):
    if not kwargs:
        kwargs = {"data": {"phonenumber": phonenumber, "password": password or sha1("pw")}}
    return client.post(path, **kwargs)


@pytest.fixture
def member(make_user):
    """A registered user whose client password is the SHA-1 of ``pw``."""
    return make_user("13800000001", sha1("pw"))


def test_success_reply_is_compact_utf8_json_in_contract_order(client, member):
    reply = login(client)
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == JSON_TYPE
    raw = reply.data
    assert not raw.endswith(b"\n")
    assert b"\\u" not in raw and b"\\/" not in raw
    assert "新手咸鱼人员".encode("utf-8") in raw
    assert b'"avatarurl":"image/avatar/default.jpg"' in raw
    body = json.loads(raw)
    assert raw == dumps(body).encode("utf-8")  # nothing but compact separators
    assert list(body) == ["status", "info", "token"]
    assert list(body["info"]) == [
        "uuid",
        "username",
        "phonenumber",
        "idcard",
        "studentid",
        "address",
        "avatarurl",
        "verified",
        "score",
        "info",
    ]
    assert body["info"]["studentid"] == "0"


def test_public_user_key_order_with_status_last(client, member):
    reply = client.get(f"/user/{member}")
    assert reply.headers["Content-Type"] == JSON_TYPE
    assert list(json.loads(reply.data)) == ["uuid", "username", "avatarurl", "verified", "score", "info", "status"]


# --------------------------------------------------------------------------------------------
# Over HTTP: routing


@pytest.mark.parametrize("path", ["/user/login", "/user/login/", "/USER/LOGIN/", "/User/Login", "/uSeR/lOgIn/"])
def test_case_insensitive_routes_with_optional_trailing_slash(client, member, path):
    reply = login(client, path=path)
    assert reply.status_code == 200, (path, reply.data)
    assert reply.get_json()["status"] == "success"


@pytest.mark.parametrize("path", ["/user/{uuid}", "/USER/{uuid}/", "/User/{uuid}"])
def test_case_insensitive_get_route(client, member, path):
    reply = client.get(path.format(uuid=member))
    assert reply.status_code == 200
    assert reply.get_json()["status"] == "success"


def test_case_insensitive_token_route(client, member, token_for):
    reply = client.post("/USER/ME/", data={"token": token_for(member)})
    assert reply.status_code == 200
    assert reply.get_json()["uuid"] == member


@pytest.mark.parametrize("prefix", ["/user/mail/verify/", "/USER/Mail/VERIFY/"])
@pytest.mark.parametrize("slash", ["", "/"])
def test_jwt_in_path_keeps_its_case(app, client, member, prefix, slash):
    with app.app_context():
        token = tokens.mail_token(member, "213170001")
    assert token != token.lower()
    reply = client.get(prefix + token + slash, headers={"Accept": "application/json"})
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == JSON_TYPE
    assert reply.data == b'{"status":"success"}'
    assert client.get(f"/user/{member}").get_json()["verified"] == 1


def test_lowercased_jwt_in_path_is_refused(app, client, member):
    """Shows the case of the token matters, so the test above is meaningful."""
    with app.app_context():
        token = tokens.mail_token(member, "213170001")
    reply = client.get("/user/mail/verify/" + token.lower(), headers={"Accept": "application/json"})
    assert reply.data == b'{"status":"failure","info":"invaild request"}'
    assert client.get(f"/user/{member}").get_json()["verified"] == 0


def assert_not_found(reply, method="GET"):
    assert reply.status_code == 404
    assert reply.headers["Content-Type"] == TEXT_TYPE
    assert reply.data == (b"" if method == "HEAD" else b"Not Found")  # HEAD never has a body


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/"),
        ("GET", "/nope"),
        ("POST", "/nope"),
        ("POST", "/user/login/extra"),
        ("GET", "/user"),
        ("GET", "/user/1/2"),
        ("POST", "/users/login"),
        ("GET", "/image/avatar/missing.jpg"),
    ],
)
def test_unknown_path_is_plain_not_found(client, method, path):
    assert_not_found(client.open(path, method=method), method)


@pytest.mark.parametrize(
    "method, path",
    [
        # (GET /user/login is GET /user/<uuid> with a non-numeric uuid: "no such user", 1.5)
        ("GET", "/user/mail/verify"),
        ("GET", "/USER/MAIL/VERIFY/"),
        ("HEAD", "/user/mail/verify"),
        ("POST", "/user/1"),
        ("PUT", "/user/1"),
        ("DELETE", "/user/me"),
        ("PATCH", "/user/modify"),
        ("POST", "/image/avatar/default.jpg"),
    ],
)
def test_wrong_method_is_plain_not_found(client, member, method, path):
    assert_not_found(client.open(path, method=method), method)


def test_get_routes_answer_head(client, member):
    got = client.get(f"/user/{member}")
    head = client.head(f"/user/{member}")
    assert head.status_code == 200
    assert head.headers["Content-Type"] == JSON_TYPE
    assert head.data == b""
    assert head.headers.get("Content-Length") in (None, str(len(got.data)))
    assert client.head("/USER/1/").status_code == 200
    with client.head("/image/avatar/default.jpg") as image:
        assert image.status_code == 200
        assert image.data == b""
    assert client.head("/user/mail/verify/x.y.z").status_code == 200


def test_unexpected_error_is_plain_500_without_details(app, client):
    def boom():
        raise RuntimeError("SELECT secret FROM users -- leaked")

    app.add_url_rule("/boom", "boom", boom)
    reply = client.get("/boom")
    assert reply.status_code == 500
    assert reply.headers["Content-Type"] == TEXT_TYPE
    assert reply.data == b"Internal Server Error"


# --------------------------------------------------------------------------------------------
# Over HTTP: request bodies


def test_login_reads_json_form_and_multipart_alike(client, member):
    fields = {"phonenumber": "13800000001", "password": sha1("pw")}
    replies = [
        login(client, data=fields),
        login(client, json=fields),
        login(client, data=json.dumps(fields), content_type="application/json; charset=utf-8"),
        login(client, data=fields, content_type="multipart/form-data"),
        login(client, **multipart(fields)),
        login(client, **multipart(fields, [("file", "x.jpg", b"x")])),
    ]
    for reply in replies:
        assert reply.status_code == 200
        body = reply.get_json()
        assert body["status"] == "success", body
        assert body["info"]["uuid"] == member
    wrong = {"phonenumber": "13800000001", "password": "nope"}
    for kwargs in ({"data": wrong}, {"json": wrong}, multipart(wrong)):
        assert login(client, **kwargs).data == b'{"status":"failure","info":"password incorrect"}'


@pytest.mark.parametrize("kind", ["form", "json", "multipart"])
def test_modify_reads_every_body_kind(client, member, token_for, kind):
    fields = {"token": token_for(member), "username": "小明/😀", "address": "九龙湖 5#"}
    kwargs = {
        "form": {"data": fields},
        "json": {"json": fields},
        "multipart": multipart(fields),
    }[kind]
    assert client.post("/user/modify", **kwargs).data == b'{"status":"success"}'
    me = client.post("/user/me", json={"token": fields["token"]})
    assert me.get_json()["username"] == "小明/😀"
    assert me.get_json()["address"] == "九龙湖 5#"
    assert '"username":"小明/😀"'.encode("utf-8") in me.data


def _assert_too_large(reply):
    assert reply.status == "413 Payload Too Large"  # Node's reason phrase (issue #12 item 6)
    assert reply.headers["Content-Type"] == TEXT_TYPE
    assert reply.data == b"Request Entity Too Large"


def _padding(size):
    return "x" * size


@pytest.mark.parametrize("kind", ["form", "json", "multipart-field", "multipart-file"])
def test_body_over_limit_is_413(client, member, kind):
    fields = {"phonenumber": "13800000001", "password": sha1("pw")}
    kwargs = {
        "form": {"data": {**fields, "pad": _padding(MIB)}},
        "json": {"json": {**fields, "pad": _padding(MIB)}},
        "multipart-field": multipart({**fields, "pad": _padding(MIB)}),
        "multipart-file": multipart(fields, [("file", "big.jpg", b"\xff" * (MIB + 1))]),
    }[kind]
    _assert_too_large(login(client, **kwargs))


def test_body_just_over_limit_is_413_and_at_limit_is_read(client, member):
    head = f"phonenumber=13800000001&password={sha1('pw')}&pad="
    at_limit = head + _padding(MIB - len(head))
    assert len(at_limit) == MIB
    over = at_limit + "x"
    form = "application/x-www-form-urlencoded"
    _assert_too_large(client.post("/user/login", data=over, content_type=form))
    reply = client.post("/user/login", data=at_limit, content_type=form)
    assert reply.status_code == 200
    assert reply.get_json()["status"] == "success"


@pytest.mark.parametrize("kind", ["form", "json", "multipart-field", "multipart-file"])
def test_body_well_under_limit_is_read(client, member, kind):
    """docs/legacy-wire.md §1: only bodies *over* FOOF_MAX_UPLOAD_BYTES are refused; 700 kB is fine,
    whichever kind of body carries it."""
    fields = {"phonenumber": "13800000001", "password": sha1("pw")}
    pad = _padding(700_000)
    kwargs = {
        "form": {"data": {**fields, "pad": pad}},
        "json": {"json": {**fields, "pad": pad}},
        "multipart-field": multipart({**fields, "pad": pad}),
        "multipart-file": multipart(fields, [("file", "pad.jpg", pad.encode())]),
    }[kind]
    reply = login(client, **kwargs)
    assert reply.status_code == 200, reply.data[:100]
    assert reply.get_json()["status"] == "success"


def test_limit_follows_config(config):
    from foof import create_app

    config["FOOF_MAX_UPLOAD_BYTES"] = 2048
    app = create_app(config)
    try:
        with app.app_context():
            from foof.cli import create_schema

            create_schema()
        client = app.test_client()
        _assert_too_large(client.post("/user/login", data={"phonenumber": "1", "pad": "x" * 2048}))
        assert client.post("/user/login", data={"phonenumber": "1", "password": "x"}).status_code == 200
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _users(app):
    with app.app_context():
        with db.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text("SELECT * FROM users ORDER BY uuid"))]


def test_oversized_register_writes_nothing(app, client, outbox):
    assert client.post("/user/requirecode", data={"phonenumber": "13900000000"}).get_json()["status"] == "success"
    code = outbox("sms")[-1]["code"]
    fields = {"phonenumber": "13900000000", "verifycode": code, "password": sha1("pw")}
    _assert_too_large(client.post("/user/register", data={**fields, "pad": _padding(MIB)}))
    _assert_too_large(client.post("/user/register", json={**fields, "pad": _padding(MIB)}))
    assert _users(app) == []
    # the code was not consumed either: the same registration, small, still works
    assert client.post("/user/register", data=fields).data == b'{"status":"success"}'


def test_oversized_modify_writes_nothing(app, client, member, token_for):
    token = token_for(member)
    before = _users(app)
    big = {"token": token, "username": "changed", "info": "changed", "pad": _padding(MIB)}
    _assert_too_large(client.post("/user/modify", data=big))
    _assert_too_large(client.post("/user/modify", json=big))
    _assert_too_large(client.post("/user/modify", **multipart(big)))
    _assert_too_large(
        client.post(
            "/user/modify",
            data={"username": "changed", "pad": _padding(MIB)},
            headers={"Authorization": f"Bearer {token}"},
        )
    )
    assert _users(app) == before


def test_oversized_avatar_writes_nothing(app, client, member, token_for, media_root):
    before = _users(app)
    files_before = sorted(os.listdir(media_root / "avatar"))
    # issue #12 item 4: a photo upload may be FOOF_MAX_PHOTO_UPLOAD_BYTES (10 MiB); beyond it 413
    limit = app.config["FOOF_MAX_PHOTO_UPLOAD_BYTES"]
    reply = client.post(
        "/user/avatar", **multipart({"token": token_for(member)}, [("file", "big.jpg", b"\xff\xd8" + b"\0" * limit)])
    )
    _assert_too_large(reply)
    assert _users(app) == before
    assert sorted(os.listdir(media_root / "avatar")) == files_before


def test_a_text_type_with_a_non_ascii_digit_renders_as_text():
    """An old database's VARCHAR ``type`` holding "²" ("²".isdigit() is True, int() refuses it)
    is rendered as the text it is, not a crash."""
    from foof.legacy.schemas import _number

    assert _number("²") == "²"
    assert _number("-12") == -12
    assert _number("١") == "١"
