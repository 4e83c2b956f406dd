"""Legacy /user routes beyond the recorded examples: profile, avatar, mail, bad input."""

import io
import os

import pytest
from PIL import Image

from foof.extensions import db
from foof.models import User

OK = {"status": "success"}
INVALID = {"status": "failure", "info": "invaild request"}


def png_bytes(size=(64, 48), color=(200, 10, 10), fmt="PNG", **save):
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt, **save)
    return out.getvalue()


def me(client, token):
    return client.post("/user/me", data={"token": token}).json


def upload_avatar(client, token, data, name="a.png", field="file"):
    return client.post(
        "/user/avatar", data={"token": token, field: (io.BytesIO(data), name)}, content_type="multipart/form-data"
    )


def test_public_user(client, user):
    uuid, _ = user
    body = client.get(f"/user/{uuid}").json
    assert list(body) == ["uuid", "username", "avatarurl", "verified", "score", "info", "status"]
    assert "phonenumber" not in body and "password" not in body


@pytest.mark.parametrize("path", ["/user/999", "/user/abc", "/user/-1", "/user/99999999999999999999"])
def test_public_user_unknown(client, path):
    assert client.get(path).json == {"status": "failure", "info": "no such user"}


def test_me_never_shows_password(client, user):
    body = me(client, user[1])
    assert "password" not in body
    assert list(body) == [
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
        "status",
    ]


def test_modify_changes_only_present_fields(client, user):
    _, token = user
    assert client.post("/user/modify", data={"token": token, "username": "wakamiyaEve", "address": "M3c"}).json == OK
    body = me(client, token)
    assert (body["username"], body["address"], body["info"]) == ("wakamiyaEve", "M3c", "这家伙很懒，什么都没有写＞︿＜")


def test_modify_cannot_touch_protected_fields(client, user):
    _, token = user
    before = me(client, token)
    reply = client.post(
        "/user/modify",
        data={
            "token": token,
            "verified": "1",
            "score": "999",
            "phonenumber": "1",
            "avatarurl": "../../etc/passwd",
        },
    ).json
    assert reply == OK
    assert me(client, token) == before


def test_modify_password(client, make_user, token_for):
    uuid = make_user("1", "old")
    token = token_for(uuid)
    assert client.post("/user/modify", data={"token": token, "password": ""}).json == OK
    assert client.post("/user/login", data={"phonenumber": "1", "password": "old"}).json["status"] == "success"
    assert client.post("/user/modify", data={"token": token, "password": "new"}).json == OK
    assert client.post("/user/login", data={"phonenumber": "1", "password": "new"}).json["status"] == "success"


def test_modify_json_numbers_become_text(client, user):
    _, token = user
    assert client.post("/user/modify", json={"token": token, "studentid": 213170001}).json == OK
    assert me(client, token)["studentid"] == "213170001"


@pytest.mark.parametrize("value", ["x" * 256, "字" * 256])
def test_modify_too_long(client, user, value):
    _, token = user
    before = me(client, token)
    assert (
        client.post("/user/modify", data={"token": token, "info": value, "username": "new"}).data
        == b'{"status":"false"}'
    )
    assert me(client, token) == before  # nothing half-applied


@pytest.mark.parametrize("value", [{"a": 1}, [1, 2], None, True])
def test_modify_wrong_json_types(client, user, value):
    _, token = user
    assert client.post("/user/modify", json={"token": token, "info": value}).json == {"status": "false"}


@pytest.mark.parametrize("value", ["😀🎉 emoji", "' OR 1=1; DROP TABLE users; --", "\u202e\u0000"])
def test_modify_odd_text_round_trips(client, user, value):
    _, token = user
    assert client.post("/user/modify", json={"token": token, "info": value}).json == OK
    assert me(client, token)["info"] == value


def test_avatar_upload(client, user, media_root):
    uuid, token = user
    exif = Image.Exif()
    exif[0x010F] = "SecretPhone"  # Make
    data = png_bytes((3000, 1500), fmt="JPEG", exif=exif.tobytes())
    assert upload_avatar(client, token, data, "photo.jpg").json == OK
    assert me(client, token)["avatarurl"] == f"image/avatar/{uuid}.jpg"
    status, _, data = fetch(client, f"/image/avatar/{uuid}.jpg")
    assert status == 200
    img = Image.open(io.BytesIO(data))
    assert img.format == "JPEG" and max(img.size) == 1024
    assert b"SecretPhone" not in data and not img.getexif()
    assert os.path.exists(media_root / "avatar" / f"{uuid}.jpg")


@pytest.mark.parametrize("fmt", ["PNG", "GIF", "WEBP", "BMP", "JPEG"])
def test_avatar_accepts_formats(client, user, fmt):
    assert upload_avatar(client, user[1], png_bytes(fmt=fmt), f"a.{fmt.lower()}").json == OK


@pytest.mark.parametrize(
    "payload",
    [
        b"hello, not an image",
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        b"<html><body>hi</body></html>",
        b"",
    ],
)
def test_avatar_refuses_non_images(client, user, media_root, payload):
    uuid, token = user
    assert upload_avatar(client, token, payload, "a.jpg").json == INVALID
    assert me(client, token)["avatarurl"] == "image/avatar/default.jpg"
    assert not os.path.exists(media_root / "avatar" / f"{uuid}.jpg")


def test_avatar_refuses_truncated_png(client, user):
    data = png_bytes((200, 200))
    assert upload_avatar(client, user[1], data[: len(data) // 2]).json == INVALID


def test_avatar_refuses_decompression_bomb(client, user):
    # 20000 × 20000 of one colour compresses to a few hundred kB: 400 MP would exhaust memory.
    img = Image.new("1", (20000, 20000))
    out = io.BytesIO()
    img.save(out, "PNG", optimize=True)
    assert len(out.getvalue()) < 1024 * 1024
    assert upload_avatar(client, user[1], out.getvalue()).json == INVALID


def test_avatar_missing_file(client, user):
    assert client.post("/user/avatar", data={"token": user[1]}).json == INVALID


def test_avatar_too_large_body(client, user, media_root):
    uuid, token = user
    # A hand-built multipart body: werkzeug's test client would spool a big one to a temp
    # file that it never closes when the app refuses to read it.
    boundary = "----foofboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="token"\r\n\r\n{token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    limit = 10 * 1024 * 1024  # FOOF_MAX_PHOTO_UPLOAD_BYTES: photo uploads have their own limit
    body = head + b"\xff" * (limit + 1 - len(head) - len(tail)) + tail
    assert len(body) == limit + 1
    reply = client.post("/user/avatar", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert reply.status_code == 413 and reply.data == b"Request Entity Too Large"
    assert reply.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert sorted(os.listdir(media_root / "avatar")) == ["default.jpg"]


def test_avatar_filename_cannot_traverse(client, user, media_root, tmp_path):
    uuid, token = user
    assert upload_avatar(client, token, png_bytes(), "../../../evil.png").json == OK
    assert not (tmp_path / "evil.png").exists()
    assert sorted(os.listdir(media_root / "avatar")) == ["1.jpg", "default.jpg"]


def fetch(client, path):
    """GET a file and close the response (send_file keeps the file open until then)."""
    with client.get(path) as reply:
        return reply.status_code, reply.headers.get("Content-Type"), reply.data


def test_static_media(client):
    assert fetch(client, "/image/avatar/default.jpg")[:2] == (200, "image/jpeg")
    assert fetch(client, "/image/item/default.jpg")[0] == 200
    assert fetch(client, "/image/avatar/nope.jpg")[0] == 404
    assert fetch(client, "/image/avatar/..%2f..%2fsetup.cfg")[0] == 404


def test_mail_verification_flow(app, client, make_user, token_for, outbox, clock):
    uuid = make_user("1", "pw", idcard="213170001")
    token = token_for(uuid)
    assert client.post("/user/mail/verify", data={"token": token}).json == OK
    mail = outbox("mail")[-1]
    assert mail["to"] == "213170001@seu.edu.cn" and mail["subject"] == "东大杂货铺"
    assert mail["link"].startswith("http://localhost:4000/user/mail/verify/")
    assert mail["link"] in mail["html"]
    assert client.post("/user/mail/verify", data={"token": token}).json == {
        "status": "failure",
        "info": "request too frequent",
    }
    clock.advance(60)
    assert client.post("/user/mail/verify", data={"token": token, "idcard": "220190002"}).json == OK
    second = outbox("mail")[-1]
    assert second["to"] == "220190002@seu.edu.cn"
    path = second["link"].replace("http://localhost:4000", "")
    assert client.get(path).json == OK
    body = me(client, token)
    assert body["verified"] == 1 and body["idcard"] == "220190002"
    # the mail token is not a login token
    assert client.post("/user/me", data={"token": path.rsplit("/", 1)[1]}).status_code == 403


@pytest.mark.parametrize("idcard", ["", "a b", "x@evil.com", "a\r\nBcc: x@y.z", "../../x"])
def test_mail_verification_needs_usable_idcard(client, make_user, token_for, idcard):
    uuid = make_user("1", "pw", idcard=idcard)
    assert client.post("/user/mail/verify", data={"token": token_for(uuid)}).json == INVALID


@pytest.mark.parametrize("token", ["garbage", "a.b.c"])
def test_mail_link_bad_token(client, token):
    assert client.get(f"/user/mail/verify/{token}").json == INVALID
    page = client.get(f"/user/mail/verify/{token}", headers={"Accept": "text/html"})
    assert page.headers["Content-Type"].startswith("text/html") and "无效" in page.get_data(as_text=True)


def test_mail_link_login_token_refused(client, user):
    assert client.get(f"/user/mail/verify/{user[1]}").json == INVALID


def test_legacy_clear_text_password_is_rehashed(app, client, make_user):
    uuid = make_user("1", "pw")
    with app.app_context():
        db.session.get(User, uuid).password = "plainsha1"
        db.session.commit()
    assert client.post("/user/login", data={"phonenumber": "1", "password": "plainsha1"}).json["status"] == "success"
    with app.app_context():
        stored = db.session.get(User, uuid).password
    assert stored != "plainsha1" and stored.startswith("pbkdf2:")
    assert client.post("/user/login", data={"phonenumber": "1", "password": "plainsha1"}).json["status"] == "success"


def test_passwords_are_hashed(app, client, make_user):
    uuid = make_user("1", "secret-sha1")
    with app.app_context():
        assert "secret-sha1" not in db.session.get(User, uuid).password


@pytest.mark.parametrize(
    "body",
    [
        {"phonenumber": ["1"], "password": "x"},
        {"phonenumber": {"a": 1}, "password": "x"},
        {"phonenumber": 1, "password": 1},
        {"phonenumber": "1" * 10000, "password": "x"},
        {"phonenumber": "1' OR '1'='1", "password": "' OR '1'='1"},
    ],
)
def test_login_odd_json(client, make_user, body):
    make_user("1", "x")
    reply = client.post("/user/login", json=body)
    assert reply.status_code == 200 and reply.json["status"] == "failure"


def test_published_and_finished(app, client, make_user, token_for):
    from foof.models import Item

    a, b = make_user("1", "pw"), make_user("2", "pw")
    with app.app_context():

        def item(uuid, sold, to=None, title="t"):
            db.session.add(
                Item(
                    uuid=uuid,
                    title=title,
                    type=1,
                    price=1.5,
                    imgurl="image/item/default.jpg",
                    depreciatione=9,
                    note="n",
                    sold=sold,
                    to=to,
                )
            )

        item(a, 1)
        item(a, 4)
        item(a, -2, to=b)
        item(a, 2, to=b)
        item(a, -4, to=b)
        db.session.commit()
    published = client.post("/user/published", data={"uuid": str(a)}).json
    assert [i["itemid"] for i in published] == [1, 3, 4]
    assert client.post("/user/published", data={"uuid": "77"}).data == b"[]"
    assert client.post("/user/published", data={"uuid": "x"}).data == b'{"status":"failure"}'
    finished = client.post("/user/finished", data={"token": token_for(b)}).json
    assert [i["itemid"] for i in finished] == [3, 4]
    assert client.post("/user/finished", data={"token": token_for(a)}).data == b"[]"
