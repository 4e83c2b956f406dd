"""Issue #14 item 6: ``/metrics`` in the Prometheus text format, readable from loopback or
with ``FOOF_METRICS_TOKEN`` only (404 otherwise, like any unknown path)."""

import hashlib
import re
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import TEST_DB, start_server, stop_server

REMOTE = {"REMOTE_ADDR": "203.0.113.9"}


def sha1(text):
    return hashlib.sha1(text.encode()).hexdigest()


def samples(body):
    """``{(name, frozenset(labels)): value}`` parsed with prometheus_client's own parser."""
    found = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found, name, **labels):
    return found.get((name, frozenset(labels.items())))


def test_counts_requests_by_route_pattern_and_status(app, client, make_user):
    make_user("13900000001", sha1("pw"))
    client.post("/user/login", data={"phonenumber": "13900000001", "password": sha1("pw")})
    client.post("/user/login", data={"phonenumber": "13900000001", "password": sha1("no")})
    client.get("/no/such/path")
    # the new account's index update has been applied (else the lag below is 1 for a moment)
    assert app.extensions["foof.search"].flush(10)
    reply = client.get("/metrics")
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("text/plain; version=")
    found = samples(reply.data)
    assert value(found, "foof_http_requests_total", method="POST", route="/user/login", status="200") == 2
    assert value(found, "foof_http_requests_total", method="GET", route="(no route)", status="404") == 1
    count = value(found, "foof_http_request_duration_seconds_count", method="POST", route="/user/login")
    assert count == 2
    assert value(found, "foof_db_pool_checked_out") is not None
    assert value(found, "foof_search_index_lag") == 0
    assert not any("13900000001" in name for name, _ in found)  # paths and bodies never become labels


def test_remote_clients_get_the_unknown_path_404(client):
    unknown = client.get("/nothing-here", environ_base=REMOTE)
    reply = client.get("/metrics", environ_base=REMOTE)
    assert reply.status_code == 404
    assert reply.data == unknown.data and reply.headers["Content-Type"] == unknown.headers["Content-Type"]


def test_loopback_through_a_proxy_is_refused(client):
    """nginx on the same machine connects from 127.0.0.1: a forwarded request is not local."""
    for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):
        assert client.get("/metrics", headers={header: "203.0.113.9"}).status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200


def test_token_opens_it_to_remote_clients(config):
    from foof import create_app

    config["FOOF_METRICS_TOKEN"] = "s3cret-token"
    client = create_app(config).test_client()
    ok = client.get("/metrics", environ_base=REMOTE, headers={"Authorization": "Bearer s3cret-token"})
    assert ok.status_code == 200 and b"foof_http_requests_total" in ok.data
    for wrong in ("Bearer s3cret", "Bearer s3cret-token-x", "s3cret-token", "Basic s3cret-token"):
        assert client.get("/metrics", environ_base=REMOTE, headers={"Authorization": wrong}).status_code == 404


def test_sms_sends_and_failures_are_counted(app, config):
    """A second app on the fixture's (emptied) database, with an SMS gateway that is down."""
    from foof import create_app
    from foof.extensions import db

    config["FOOF_SMS_BACKEND"] = "http"
    config["FOOF_SMS_HTTP_URL"] = "http://127.0.0.1:1/sms"  # nothing listens: every send fails
    config["FOOF_SMS_HTTP_TIMEOUT"] = 2
    app = create_app(config)
    client = app.test_client()
    assert client.post("/user/requirecode", data={"phonenumber": "13900000002"}).json["status"] == "server error"
    found = samples(client.get("/metrics").data)
    assert value(found, "foof_sends_total", channel="sms", outcome="failed") == 1
    assert value(found, "foof_sends_total", channel="sms", outcome="sent") is None
    with app.app_context():
        db.engine.dispose()


def test_sms_sent_is_counted(client):
    assert client.post("/user/requirecode", data={"phonenumber": "13900000003"}).json["status"] == "success"
    found = samples(client.get("/metrics").data)
    assert value(found, "foof_sends_total", channel="sms", outcome="sent") == 1


def test_live_server_reports_waitress_queue_and_connections(app, config, make_user, make_item):
    uuid = make_user("13900000004", "pw")
    itemid = make_item(uuid)
    proc, url = start_server(config)
    try:
        for _ in range(3):
            with urllib.request.urlopen(f"{url}/item/{itemid}", timeout=10) as reply:
                assert reply.status == 200
        with urllib.request.urlopen(f"{url}/metrics", timeout=10) as reply:
            body = reply.read()
    finally:
        stop_server(proc)
    found = samples(body)
    assert value(found, "foof_waitress_queue_depth") == 0
    assert value(found, "foof_waitress_connections") >= 1
    assert value(found, "foof_db_pool_size") >= 1
    hot = value(found, "foof_hot_reads_io_thread_total")
    if TEST_DB.startswith("mysql+pymysql"):  # PyMySQL: every read goes to a worker (mysqlclient: the I/O thread)
        assert hot is None
    else:
        assert hot == 3
    assert re.search(rb'foof_http_requests_total\{method="GET",route="/metrics",status="200"\}', body) is None
