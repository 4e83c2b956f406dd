"""Issue #11 item 14: a body over the request's limit is refused before the view runs, on
routes that never read their body too, with or without Content-Length; nothing is written.
Item 15: served files carry ``X-Content-Type-Options: nosniff``, the JSON replies do not."""

import http.client
import io
import json
import urllib.parse

import pytest
from PIL import Image

from tests.conftest import start_server, stop_server, table_snapshot
from tests.test_rest import Person, assert_refused, call, multipart_by_hand, ok

MIB = 1024 * 1024
TOO_LARGE_TEXT = b"Request Entity Too Large"


@pytest.fixture
def config(config, tmp_path):
    config["FOOF_UPLOAD_ROOT"] = str(tmp_path / "upload")
    return config


@pytest.fixture
def shop(app):
    seller, buyer = Person(app, "seller"), Person(app, "buyer")
    pid = seller.add_product()
    return seller, buyer, pid


def test_a_5_mb_body_on_a_route_that_never_reads_it_creates_no_order(app, shop):
    _, buyer, pid = shop
    before = table_snapshot(app)
    reply = buyer("POST", f"/orders/{int(pid)}?trans=0", data=b"x" * (5 * MIB), content_type="application/octet-stream")
    assert_refused(reply, 6001)
    assert reply.status_code == 200  # the envelope's own status, as for an upload
    assert table_snapshot(app) == before
    ok(buyer.buy(int(pid)))  # the same request without the body still works


def test_the_rest_upload_routes_keep_their_10_mib(app, shop):
    seller, _, _ = shop
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(out, "PNG")
    padded = out.getvalue() + b"\0" * (2 * MIB)  # 2 MiB: over the 1 MiB default, a valid PNG
    body, ctype = multipart_by_hand(padded)
    assert ok(seller("POST", "/users/detail/avatar", data=body, content_type=ctype)).startswith("/upload/")
    body, ctype = multipart_by_hand(b"\0" * (10 * MIB + 1))
    assert_refused(seller("POST", "/users/detail/avatar", data=body, content_type=ctype), 6001)


def test_legacy_routes_refuse_a_big_body_with_the_old_text(client, user, app):
    before = table_snapshot(app)
    reply = client.post(
        "/user/modify",
        data=b"token=" + user[1].encode() + b"&" + b"x" * MIB,
        content_type="application/x-www-form-urlencoded",
    )
    assert (reply.status_code, reply.data) == (413, TOO_LARGE_TEXT)
    assert table_snapshot(app) == before


def test_a_chunked_body_without_length_is_held_to_the_limit_in_process(client, user, app):
    """Through the werkzeug test client (no server to de-chunk it): no Content-Length."""
    before = table_snapshot(app)
    body = io.BytesIO(b"x" * (2 * MIB))
    reply = client.post(
        "/item/add",
        input_stream=body,
        headers={"Transfer-Encoding": "chunked", "Content-Type": "application/x-www-form-urlencoded"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert (reply.status_code, reply.data) == (413, TOO_LARGE_TEXT)
    assert table_snapshot(app) == before


def chunked_post(url, path, body, headers):
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.putrequest("POST", path)
        for key, value in headers.items():
            conn.putheader(key, value)
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        step = 64 * 1024
        for start in range(0, len(body), step):
            piece = body[start : start + step]
            conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        conn.send(b"0\r\n\r\n")
        reply = conn.getresponse()
        return reply.status, dict(reply.getheaders()), reply.read()
    finally:
        conn.close()


def test_chunked_bodies_through_the_real_server(app, config, shop, user):
    _, buyer, pid = shop
    cookie = buyer.client.get_cookie("session")
    proc, url = start_server(config)
    try:
        before = table_snapshot(app)
        status, _, body = chunked_post(
            url,
            f"/orders/{int(pid)}?trans=0",
            b"y" * (5 * MIB),
            {"Content-Type": "application/octet-stream", "Cookie": f"session={cookie.value}"},
        )
        assert status == 200 and json.loads(body)["state"] == 6001
        status, _, body = chunked_post(
            url,
            "/item/add",
            b"token=" + user[1].encode() + b"&title=" + b"z" * (2 * MIB),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert (status, body) == (413, TOO_LARGE_TEXT)
        assert table_snapshot(app) == before
        # A small chunked body is read as before.
        status, _, body = chunked_post(
            url,
            "/user/modify",
            b"info=hi&token=" + user[1].encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert status == 200 and json.loads(body) == {"status": "success"}
    finally:
        stop_server(proc)


# -- item 15 ------------------------------------------------------------------------------


def test_served_files_say_nosniff(app, client, shop):
    seller, _, _ = shop
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (9, 9, 9)).save(out, "PNG")
    body, ctype = multipart_by_hand(out.getvalue())
    stored = ok(seller("POST", "/users/detail/avatar", data=body, content_type=ctype))
    for path in ("/image/avatar/default.jpg", "/image/item/default.jpg", stored):
        with client.get(path) as reply:
            assert reply.status_code == 200, path
            assert reply.headers["X-Content-Type-Options"] == "nosniff", path


def test_json_replies_keep_the_old_header_set(client, user, make_item):
    make_item(user[0])
    for reply in (
        client.get("/item/1"),
        client.post("/user/modify", data={"token": user[1], "info": "hi"}),
        client.get("/image/avatar/missing.jpg"),
    ):
        assert "X-Content-Type-Options" not in reply.headers
    reply = call(client, "GET", "/products/1")
    assert "X-Content-Type-Options" not in reply.headers


# -- bodies waitress refuses (over FOOF_MAX_REQUEST_BODY_BYTES) ---------------------------


def raw_exchange(address, head, body=b""):
    """Send ``head`` (and ``body``) on a fresh socket; the whole reply until the server closes."""
    import socket

    sock = socket.create_connection(address, timeout=10)
    try:
        sock.sendall(head + body)
        sock.shutdown(socket.SHUT_WR) if not body else None
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
        return data
    finally:
        sock.close()


def test_bodies_over_the_server_limit_get_the_faces_own_answers(app, config, shop, user, monkeypatch):
    _, buyer, pid = shop
    cookie = buyer.client.get_cookie("session").value
    monkeypatch.setenv("FOOF_MAX_REQUEST_BODY_BYTES", str(2 * MIB))
    monkeypatch.setenv("FOOF_MAX_PHOTO_UPLOAD_BYTES", str(2 * MIB))  # else waitress allows the photo limit
    proc, url = start_server(config)
    parts = urllib.parse.urlsplit(url)
    address = (parts.hostname, parts.port)
    try:
        before = table_snapshot(app)
        # Legacy: the old server's 413, its text and headers, not waitress's page.
        reply = raw_exchange(
            address,
            b"POST /item/add HTTP/1.1\r\nHost: x\r\nContent-Type: "
            b"application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n" % (3 * MIB),
        )
        head, _, body = reply.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 413 ") and body == TOO_LARGE_TEXT, reply[:300]
        assert b"Content-Type: text/plain; charset=utf-8" in head and b"Connection: close" in head
        # REST: an upload over the server's limit is state 6001.
        reply = raw_exchange(
            address,
            b"POST /users/detail/avatar HTTP/1.1\r\nHost: x\r\nContent-Type: "
            b"multipart/form-data; boundary=b\r\nCookie: session=%s\r\nContent-Length: %d\r\n\r\n"
            % (cookie.encode(), 3 * MIB),
        )
        head, _, body = reply.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 ") and json.loads(body)["state"] == 6001, reply[:300]
        # A chunked body growing past it: the same.
        status, _, body = chunked_post(
            url,
            f"/orders/{int(pid)}?trans=0",
            b"y" * (3 * MIB),
            {"Content-Type": "application/octet-stream", "Cookie": f"session={cookie}"},
        )
        assert status == 200 and json.loads(body)["state"] == 6001
        assert table_snapshot(app) == before
    finally:
        stop_server(proc)


def test_a_body_of_exactly_the_server_limit_reaches_the_app(app, config, user, monkeypatch):
    monkeypatch.setenv("FOOF_MAX_REQUEST_BODY_BYTES", str(MIB))
    monkeypatch.setenv("FOOF_MAX_PHOTO_UPLOAD_BYTES", str(MIB))
    proc, url = start_server(config)
    parts = urllib.parse.urlsplit(url)
    try:
        prefix = b"info=hi&token=" + user[1].encode() + b"&pad="
        body = prefix + b"x" * (MIB - len(prefix))
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        conn.request("POST", "/user/modify", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        reply = conn.getresponse()
        assert (reply.status, json.loads(reply.read())) == (200, {"status": "success"})
        conn.close()
    finally:
        stop_server(proc)
