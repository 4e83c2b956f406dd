"""Issue #12 item 4: camera photos over 1 MiB. The app uploads full-size photos (2-5 MB each)
as repeated ``file`` parts; a multipart body to a photo-upload route of either face
(``/user/avatar``, ``/item/image``, the REST avatar, student card and product image) may be
as large as ``FOOF_MAX_PHOTO_UPLOAD_BYTES`` (default 10 MiB). Every other body, including a
non-multipart one to those routes, keeps ``FOOF_MAX_UPLOAD_BYTES`` (1 MiB). Photos are
re-encoded as before, and a real server stays within a stated memory bound."""

import http.client
import io
import json
import os
import urllib.parse

import pytest
from PIL import Image

from tests.conftest import post_json, start_server, status_kb, stop_server, table_snapshot
from tests.test_rest import Person, assert_refused, ok

MIB = 1024 * 1024
OK = {"status": "success"}
TOO_LARGE = (413, "text/plain; charset=utf-8", b"Request Entity Too Large")
BOUNDARY = "----RNFormBoundaryfoofphotos"


@pytest.fixture
def config(config, tmp_path):
    config["FOOF_UPLOAD_ROOT"] = str(tmp_path / "upload")  # REST uploads, as in test_rest
    return config


def camera_jpeg(megabytes, side=(4000, 3000)):
    """A 12 MP photo with sensor-like noise, about ``megabytes`` MB, as a phone writes it."""
    size = side
    grey = Image.linear_gradient("L").resize(size)
    noise = Image.effect_noise(size, 30)
    im = Image.merge("RGB", (grey, noise, Image.blend(grey, noise, 0.5)))
    for quality in (60, 70, 75, 80, 85, 90, 95):
        out = io.BytesIO()
        im.save(out, "JPEG", quality=quality)
        if out.tell() >= megabytes * 1_000_000:
            return out.getvalue()
    raise AssertionError("could not make a photo that large")


@pytest.fixture(scope="module")
def photo_1mb():
    data = camera_jpeg(0.56, side=(2000, 1500))
    assert 560_000 <= len(data) < 1_000_000  # two of them: the 1.1 MB request
    return data


@pytest.fixture(scope="module")
def photo_4mb():
    data = camera_jpeg(4)
    assert 4_000_000 <= len(data) < 5_000_000, len(data)
    return data


def multipart(fields, files):
    """``(body, content type)``: text ``fields``, then every photo as a part named ``file``
    with a filename, as the app's FormData sends them."""
    out = []
    for name, value in fields.items():
        out.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for n, data in enumerate(files):
        out.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="IMG_{n:04d}.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    out.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={BOUNDARY}"


def padded_to(fields, total):
    """A multipart body of exactly ``total`` bytes: one file part of junk filling it."""
    body, ctype = multipart(fields, [b""])
    junk = total - len(body)
    body, ctype = multipart(fields, [b"\xff" * junk])
    assert len(body) == total
    return body, ctype


def post(client, path, body, ctype):
    reply = client.post(path, data=body, content_type=ctype)
    return reply


def answer(reply):
    return reply.status_code, reply.headers["Content-Type"], reply.data


def media_files(media_root):
    return sorted(os.listdir(media_root / "item")), sorted(os.listdir(media_root / "avatar"))


def jpeg_size(path):
    with Image.open(path) as im:
        assert im.format == "JPEG" and not im.getexif()
        return im.size


# -- in process ----------------------------------------------------------------------------


def test_two_camera_photos_over_1_mib_publish(client, user, make_item, item_row, media_root, photo_1mb):
    """The issue's case: two photos, 1.1 MB together, got 413 text and the spinner never closed."""
    uuid, token = user
    itemid = make_item(uuid)
    body, ctype = multipart({"token": token, "itemid": itemid}, [photo_1mb, photo_1mb])
    assert 1.1e6 <= len(body) and len(body) > MIB
    reply = post(client, "/item/image", body, ctype)
    assert reply.status_code == 200, reply.data
    urls = [f"image/item/{uuid}-{itemid}-0.jpg", f"image/item/{uuid}-{itemid}-1.jpg"]
    assert reply.json == {"status": "success", "imgurl": urls}
    assert item_row(itemid)["imgurl"] == "".join(u + "++" for u in urls)
    for url in urls:
        assert jpeg_size(media_root / url[len("image/") :]) == (1600, 1200)  # re-encoded down


def test_a_4_mb_avatar_is_taken(client, user, media_root, photo_4mb):
    uuid, token = user
    body, ctype = multipart({"token": token}, [photo_4mb])
    reply = post(client, "/user/avatar", body, ctype)
    assert reply.status_code == 200 and reply.json == OK
    assert jpeg_size(media_root / "avatar" / f"{uuid}.jpg") == (1024, 768)
    me = post_json(client, "/user/me", {"token": token}).json
    assert me["avatarurl"] == f"image/avatar/{uuid}.jpg"


def test_two_4_mb_photos_fit_the_default_limit(client, user, make_item, photo_4mb):
    uuid, token = user
    itemid = make_item(uuid)
    body, ctype = multipart({"token": token, "itemid": itemid}, [photo_4mb, photo_4mb])
    assert 8e6 < len(body) < 10 * MIB
    assert post(client, "/item/image", body, ctype).json["status"] == "success"


@pytest.mark.parametrize("path", ["/item/image", "/user/avatar"])
def test_a_multipart_body_over_the_photo_limit_is_413_and_writes_nothing(
    app, client, user, make_item, media_root, path
):
    uuid, token = user
    itemid = make_item(uuid)
    before = table_snapshot(app)
    body, ctype = padded_to({"token": token, "itemid": itemid}, 10 * MIB + 1)
    assert answer(post(client, path, body, ctype)) == TOO_LARGE
    assert table_snapshot(app) == before
    assert media_files(media_root) == (["default.jpg"], ["default.jpg"])
    # exactly the limit is read (and refused as no image: the junk is not a photo)
    body, ctype = padded_to({"token": token, "itemid": itemid}, 10 * MIB)
    reply = post(client, path, body, ctype)
    assert reply.status_code == 200 and reply.json == {"status": "failure", "info": "invaild request"}
    assert table_snapshot(app) == before


@pytest.mark.parametrize(
    "path,ctype",
    [
        ("/item/image", "application/json"),
        ("/user/avatar", "application/json"),
        ("/item/image", "application/x-www-form-urlencoded"),
        ("/user/avatar", "text/plain"),
    ],
)
def test_a_non_multipart_body_to_an_upload_route_keeps_the_1_mib_limit(app, client, user, make_item, path, ctype):
    uuid, token = user
    itemid = make_item(uuid)
    before = table_snapshot(app)
    if ctype == "application/json":
        body = json.dumps({"token": token, "itemid": itemid, "file": "x" * MIB}).encode()
    else:
        body = f"token={token}&itemid={itemid}&file=".encode() + b"x" * MIB
    assert answer(client.post(path, data=body, content_type=ctype)) == TOO_LARGE
    assert table_snapshot(app) == before


def test_other_routes_keep_the_1_mib_limit_for_multipart_too(app, client, user):
    before = table_snapshot(app)
    body, ctype = multipart(
        {"token": user[1], "title": "充电宝", "type": 1, "price": 1, "depreciatione": 90, "note": "", "sold": 1},
        [b"\xff" * (2 * MIB)],
    )
    assert answer(client.post("/item/add", data=body, content_type=ctype)) == TOO_LARGE
    assert table_snapshot(app) == before


def test_a_huge_text_part_in_an_upload_stays_within_the_1_mib_memory_cap(app, client, user, make_item, media_root):
    """File parts are spooled to disk; a text part (token, itemid) is held in memory, so it
    keeps the 1 MiB cap of other bodies."""
    uuid, token = user
    itemid = make_item(uuid)
    before = table_snapshot(app)
    body, ctype = multipart({"token": token, "itemid": itemid, "note": "x" * (2 * MIB)}, [b"\xff" * 10])
    assert answer(client.post("/item/image", data=body, content_type=ctype)) == TOO_LARGE
    assert table_snapshot(app) == before
    assert media_files(media_root) == (["default.jpg"], ["default.jpg"])


def test_the_setting_sets_the_photo_limit_of_both_faces(config, photo_4mb, media_root, tmp_path):
    from foof import create_app
    from foof.cli import create_schema
    from foof.domain import accounts, tokens
    from foof.extensions import db
    from foof.models import Item
    from tests.conftest import TEST_DB, _reset_database

    config["FOOF_MAX_PHOTO_UPLOAD_BYTES"] = 3 * MIB
    app = create_app(config)
    try:
        with app.app_context():
            _reset_database() if TEST_DB else create_schema()
            uuid = accounts.create_user("13800000009", "pw")
            token = tokens.login_token(uuid)
            item = Item(
                uuid=uuid,
                title="t",
                type=1,
                price=1,
                imgurl="image/item/default.jpg",
                depreciatione=90,
                note="",
                sold=1,
                to=0,
            )
            db.session.add(item)
            db.session.commit()
            itemid = item.itemid
        client = app.test_client()
        small = camera_jpeg(2, side=(3000, 2000))
        assert len(small) < 3 * MIB - 1000
        for path in ("/item/image", "/user/avatar"):
            body, ctype = multipart({"token": token, "itemid": itemid}, [photo_4mb])
            assert answer(post(client, path, body, ctype)) == TOO_LARGE
            body, ctype = multipart({"token": token, "itemid": itemid}, [small])
            assert post(client, path, body, ctype).json["status"] == "success"
        seller = Person(app, "seller")
        pid = seller.add_product()
        for method, path in (
            ("PATCH", "/users/detial/avatar"),
            ("POST", "/users/detail/studentcard"),
            ("POST", f"/products/img/{pid}"),
        ):
            body, ctype = multipart({}, [photo_4mb])
            assert_refused(seller(method, path, data=body, content_type=ctype), 6001)
            body, ctype = multipart({}, [small])
            assert ok(seller(method, path, data=body, content_type=ctype)).startswith("/upload/")
    finally:
        app.extensions["foof.search"].close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.parametrize(
    "method,route",
    [
        ("PATCH", "/users/detial/avatar"),
        ("POST", "/users/detail/studentcard"),
        ("POST", "/products/img/{pid}"),
    ],
)
def test_rest_uploads_take_camera_photos_and_keep_1_mib_for_other_bodies(app, photo_4mb, method, route):
    seller = Person(app, "seller")
    path = route.format(pid=seller.add_product())
    body, ctype = multipart({}, [photo_4mb, photo_4mb])
    assert ok(seller(method, path, data=body, content_type=ctype)).startswith("/upload/")
    before = table_snapshot(app)
    reply = seller(method, path, data=b"x" * (MIB + 1), content_type="application/octet-stream")
    assert_refused(reply, 6001)
    assert table_snapshot(app) == before


# -- a real server -------------------------------------------------------------------------


def send(url, path, body, ctype):
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": ctype})
        reply = conn.getresponse()
        return reply.status, reply.getheader("Content-Type"), reply.read()
    finally:
        conn.close()


def send_head(url, path, ctype, length):
    """Only the request head announcing a ``length``-byte body: the server answers from the
    length alone (it closes the connection after, so a client still sending would get a
    reset instead of the answer)."""
    import socket

    parts = urllib.parse.urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {ctype}\r\nContent-Length: {length}\r\n\r\n".encode()
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers.get("Content-Type"), body


def serve(config, monkeypatch, photo_limit=None):
    if photo_limit is not None:  # start_server passes the environment on to wsgi.py
        monkeypatch.setenv("FOOF_MAX_PHOTO_UPLOAD_BYTES", str(photo_limit))
        monkeypatch.setenv("FOOF_MAX_REQUEST_BODY_BYTES", str(photo_limit))
    return start_server(config)


def test_four_4_mb_camera_photos_through_a_real_server_within_100_mb(
    config, monkeypatch, user, make_item, item_row, media_root, photo_4mb
):
    """Four photos of 4-5 MB (the app's maximum of 4 parts) need more than the 10 MiB
    default: the server runs with FOOF_MAX_PHOTO_UPLOAD_BYTES (and waitress's
    FOOF_MAX_REQUEST_BODY_BYTES) at 24 MiB."""
    uuid, token = user
    itemid = make_item(uuid)
    proc, url = serve(config, monkeypatch, 24 * MIB)
    try:
        # Warm up: Pillow's plugins imported, one decode done, the allocator settled.
        warm_item = make_item(uuid)
        body, ctype = multipart({"token": token, "itemid": warm_item}, [camera_jpeg(0.3, side=(1600, 1200))])
        status, _, data = send(url, "/item/image", body, ctype)
        assert status == 200 and json.loads(data)["status"] == "success"
        before = status_kb(proc.pid, "VmRSS")
        body, ctype = multipart({"token": token, "itemid": itemid}, [photo_4mb] * 4)
        assert len(body) > 16_000_000
        status, kind, data = send(url, "/item/image", body, ctype)
        grew = (status_kb(proc.pid, "VmHWM") - before) / 1024
        print(
            f"/item/image, four {len(photo_4mb) / 1e6:.1f} MB JPEGs ({len(body) / 1e6:.1f} MB body): "
            f"peak RSS grew {grew:.1f} MB (RSS before {before / 1024:.0f} MB)"
        )
        assert (status, kind) == (200, "application/json; charset=utf-8"), data
        urls = [f"image/item/{uuid}-{itemid}-{n}.jpg" for n in range(4)]
        assert json.loads(data) == {"status": "success", "imgurl": urls}
        assert item_row(itemid)["imgurl"] == "".join(u + "++" for u in urls)
        for url_ in urls:
            assert jpeg_size(media_root / url_[len("image/") :]) == (1600, 1200)
        assert grew < 100  # measured 47 MB (RSS 113 MB before): the body is on disk, one decode at a time
    finally:
        stop_server(proc)


def test_the_default_limits_through_a_real_server(app, config, monkeypatch, user, make_item, media_root, photo_4mb):
    uuid, token = user
    itemid = make_item(uuid)
    proc, url = serve(config, monkeypatch)
    try:
        body, ctype = multipart({"token": token, "itemid": itemid}, [photo_4mb, photo_4mb])
        status, _, data = send(url, "/item/image", body, ctype)
        assert status == 200 and json.loads(data)["status"] == "success"
        before = table_snapshot(app)
        files = media_files(media_root)
        body, ctype = multipart({"token": token, "itemid": itemid}, [photo_4mb] * 3)
        assert len(body) > 10 * MIB
        assert send_head(url, "/item/image", ctype, len(body)) == TOO_LARGE
        assert send_head(url, "/item/image", ctype, 10 * MIB + 1) == TOO_LARGE
        body = json.dumps({"token": token, "itemid": itemid, "file": "x" * MIB}).encode()
        assert send(url, "/item/image", body, "application/json") == TOO_LARGE  # waitress takes it all
        assert send(url, "/item/image", body[: MIB - 10] + b'"}', "application/json")[0] == 200
        assert table_snapshot(app) == before and media_files(media_root) == files
    finally:
        stop_server(proc)
