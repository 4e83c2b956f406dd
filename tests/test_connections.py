"""Issue #11 item 2: idle and slow connections cannot lock other clients out (foof/serving.py).
A real server process with FOOF_CONNECTION_LIMIT=100; more slow connections than that, and a
normal request is still answered within a second, in both serving modes."""

import http.client
import socket
import time
import urllib.parse

import pytest

from foof import serving
from tests.conftest import start_server, stop_server

LIMIT = 100


@pytest.fixture(params=["inline", "plain"])
def server(request, app, config, make_user, monkeypatch):
    make_user("13800000001", "pw")
    monkeypatch.setenv("FOOF_CONNECTION_LIMIT", str(LIMIT))
    monkeypatch.setenv("FOOF_CHANNEL_TIMEOUT", "30")
    if request.param == "plain":
        monkeypatch.setenv("FOOF_INLINE_READS", "off")
    proc, url = start_server(config)
    parts = urllib.parse.urlsplit(url)
    yield proc, (parts.hostname, parts.port)
    stop_server(proc)


def open_slow(address, count, head):
    """``count`` connections that each send ``head`` and then nothing more."""
    socks = []
    for _ in range(count):
        sock = socket.create_connection(address, timeout=5)
        sock.sendall(head)
        socks.append(sock)
    return socks


def timed_get(address, path="/user/1", timeout=5):
    started = time.monotonic()
    conn = http.client.HTTPConnection(*address, timeout=timeout)
    try:
        conn.request("GET", path)
        reply = conn.getresponse()
        body = reply.read()
        return reply.status, body, time.monotonic() - started
    finally:
        conn.close()


def close_all(socks):
    for sock in socks:
        sock.close()


def test_120_slow_header_connections_do_not_lock_a_normal_request_out(server):
    _, address = server
    socks = open_slow(address, 120, b"GET /user/1 HTTP/1.1\r\nHost: x\r\nX-Slow: a")
    try:
        time.sleep(0.5)  # the server has taken all it can
        status, body, took = timed_get(address)
        print(f"GET /user/1 behind 120 slow-header connections: {took * 1000:.0f} ms")
        assert status == 200 and b'"uuid":1' in body
        assert took < 1
    finally:
        close_all(socks)


def test_105_slow_body_connections_do_not_lock_a_normal_request_out(server):
    _, address = server
    head = (
        b"POST /user/modify HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 100000\r\n\r\ninfo="
    )
    socks = open_slow(address, 105, head)
    try:
        time.sleep(0.5)
        for _ in range(3):  # and again, each time past the limit
            status, _, took = timed_get(address)
            print(f"GET /user/1 behind 105 slow-body connections: {took * 1000:.0f} ms")
            assert status == 200 and took < 1
    finally:
        close_all(socks)


def test_idle_keep_alive_connections_give_way_too(server):
    _, address = server
    socks = []
    try:
        for _ in range(LIMIT + 10):  # each asks once, then keeps its connection open, silent
            conn = http.client.HTTPConnection(*address, timeout=5)
            conn.request("GET", "/user/1")
            reply = conn.getresponse()
            reply.read()
            assert reply.status == 200
            socks.append(conn)
        status, _, took = timed_get(address)
        assert status == 200 and took < 1
    finally:
        for conn in socks:
            conn.close()


@pytest.fixture
def quick_timeout(app, config, make_user, monkeypatch):
    make_user("13800000001", "pw")
    monkeypatch.setenv("FOOF_CHANNEL_TIMEOUT", "2")
    proc, url = start_server(config)
    parts = urllib.parse.urlsplit(url)
    yield (parts.hostname, parts.port)
    stop_server(proc)


def closed_by_server(sock, within):
    """Whether the server closes ``sock`` within ``within`` seconds while we trickle bytes."""
    deadline = time.monotonic() + within
    sock.settimeout(0.4)
    while time.monotonic() < deadline:
        try:
            sock.send(b"a")
        except OSError:
            return True
        try:
            if sock.recv(1024) == b"":
                return True
        except socket.timeout:
            pass
        except OSError:
            return True
    return False


def test_headers_trickled_byte_by_byte_are_cut_off_after_the_channel_timeout(quick_timeout):
    # waitress alone only closes a *silent* connection: one byte every 0.4 s kept it forever.
    sock = socket.create_connection(quick_timeout, timeout=5)
    try:
        sock.sendall(b"GET /user/1 HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        started = time.monotonic()
        assert closed_by_server(sock, within=8)
        print(f"trickled headers closed after {time.monotonic() - started:.1f} s")
    finally:
        sock.close()
    status, _, took = timed_get(quick_timeout)
    assert status == 200


def test_a_silent_connection_is_closed_after_the_channel_timeout(quick_timeout):
    sock = socket.create_connection(quick_timeout, timeout=8)
    try:
        started = time.monotonic()
        assert sock.recv(1) == b""
        assert time.monotonic() - started < 6  # 2 s timeout, checked every 2 s
    finally:
        sock.close()


def test_waitress_never_cuts_below_the_photo_upload_limit(app):
    # Raising only FOOF_MAX_PHOTO_UPLOAD_BYTES must not leave photos cut off by waitress.
    app.config.update(FOOF_MAX_REQUEST_BODY_BYTES=10 * 1024 * 1024, FOOF_MAX_PHOTO_UPLOAD_BYTES=24 * 1024 * 1024)
    assert serving.limits(app)["max_request_body_size"] == 24 * 1024 * 1024 + 1


def test_the_limits_reach_waitress_in_both_modes(app):
    app.config.update(
        FOOF_CONNECTION_LIMIT=321,
        FOOF_CHANNEL_TIMEOUT=17,
        FOOF_MAX_REQUEST_BODY_BYTES=12345,
        FOOF_MAX_PHOTO_UPLOAD_BYTES=1000,
    )
    for inline in (True, False):
        server = serving.create_server(app, "127.0.0.1", 0, threads=1, inline=inline)
        try:
            adj = server.adj
            assert (adj.connection_limit, adj.channel_timeout, adj.max_request_body_size) == (321, 17, 12346)
            assert adj.cleanup_interval == serving.CLEANUP_INTERVAL and adj.asyncore_use_poll
            assert isinstance(server, serving.GuardedServer)
            assert issubclass(server.channel_class, serving.GuardedChannel)
        finally:
            server.task_dispatcher.shutdown(timeout=5)
            server.close()


def test_a_limit_below_one_is_refused(app):
    app.config["FOOF_CONNECTION_LIMIT"] = 0
    with pytest.raises(ValueError, match="FOOF_CONNECTION_LIMIT"):
        serving.create_server(app, "127.0.0.1", 0, threads=1)
