"""Mail verification against a hostile student (issue #11, item 13).

* The 60 s gap between two verification mails of one user is taken in one step
  (``ratelimit.take``): of requests sent at once exactly one sends a mail.
* Opening the mailed link in a browser (``Accept`` prefers ``text/html``) shows a page that
  confirms only with a button (a POST to the same URL), so a mail scanner that opens links
  cannot confirm an ``idcard`` override the requester typed. A plain GET that asks for JSON
  (or sends no ``Accept``) keeps the contract's answer and verifies. HEAD never verifies.
"""

import json
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from foof.domain import tokens
from foof.domain.errors import SendFailed
from tests.conftest import http_post

OK = {"status": "success"}
INVALID = {"status": "failure", "info": "invaild request"}
TOO_FREQUENT = {"status": "failure", "info": "request too frequent"}
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
HTML_ACCEPTS = [
    BROWSER,
    "text/html",
    "text/html, application/json;q=0.5",
    "text/*",
    "application/xhtml+xml,text/html;q=0.9,*/*;q=0.1",
]


def _me(client, token):
    return client.post("/user/me", data={"token": token}).json


def _state(client, token):
    me = _me(client, token)
    return me["verified"], me["idcard"]


@pytest.fixture
def victim_link(app, client, make_user, token_for, outbox):
    """A requester (idcard 213170001) asks for a mail to someone else's mailbox 220190002:
    returns (login token, path of the mailed link)."""
    uuid = make_user("1", "pw", idcard="213170001", username="<b>小王</b>")
    token = token_for(uuid)
    assert client.post("/user/mail/verify", data={"token": token, "idcard": "220190002"}).json == OK
    mail = outbox("mail")[-1]
    assert mail["to"] == "220190002@seu.edu.cn"
    assert "确认认证" in mail["html"]  # the mail tells the person about the button
    return token, mail["link"].replace("http://localhost:4000", "")


# ------------------------------------------------------------------ the 60 s gap, atomically


def test_twenty_parallel_requests_send_one_mail(app, make_user, token_for, outbox, live_server):
    uuid = make_user("1", "pw", idcard="213170001")
    token = token_for(uuid)
    barrier = threading.Barrier(20)

    def ask(_):
        barrier.wait()
        return http_post(live_server.url + "/user/mail/verify", {"token": token})

    with ThreadPoolExecutor(20) as pool:
        replies = list(pool.map(ask, range(20)))
    bodies = [json.loads(body) for status, body in replies if status == 200]
    assert len(bodies) == 20, replies
    assert bodies.count(OK) == 1, bodies
    assert bodies.count(TOO_FREQUENT) == 19, bodies
    assert len(outbox("mail")) == 1


def test_gap_is_per_user_and_reopens_after_sixty_seconds(client, make_user, token_for, outbox, clock):
    first = token_for(make_user("1", "pw", idcard="213170001"))
    second = token_for(make_user("2", "pw", idcard="213170002"))
    assert client.post("/user/mail/verify", data={"token": first}).json == OK
    assert client.post("/user/mail/verify", data={"token": second}).json == OK
    clock.advance(59)
    assert client.post("/user/mail/verify", data={"token": first}).json == TOO_FREQUENT
    clock.advance(1)
    assert client.post("/user/mail/verify", data={"token": first}).json == OK
    assert len(outbox("mail")) == 3


def test_failed_send_gives_the_gap_back(app, client, make_user, token_for, outbox, monkeypatch):
    token = token_for(make_user("1", "pw", idcard="213170001"))
    mail = app.extensions["foof.senders"][1]
    real_send = mail.send

    def broken(*args):
        raise SendFailed()

    monkeypatch.setattr(mail, "send", broken)
    assert client.post("/user/mail/verify", data={"token": token}).json == {"status": "server error"}
    monkeypatch.setattr(mail, "send", real_send)
    assert client.post("/user/mail/verify", data={"token": token}).json == OK  # retry at once
    assert client.post("/user/mail/verify", data={"token": token}).json == TOO_FREQUENT
    assert len(outbox("mail")) == 1


def test_refused_idcard_does_not_use_the_gap(client, make_user, token_for, outbox):
    token = token_for(make_user("1", "pw", idcard="213170001"))
    assert client.post("/user/mail/verify", data={"token": token, "idcard": "a@b"}).json == INVALID
    assert client.post("/user/mail/verify", data={"token": token}).json == OK


# ------------------------------------------------------------------ the link: GET never confirms in a browser


@pytest.mark.parametrize("accept", HTML_ACCEPTS)
def test_browser_get_shows_a_confirm_page_and_changes_nothing(client, victim_link, accept):
    token, path = victim_link
    page = client.get(path, headers={"Accept": accept})
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    text = page.get_data(as_text=True)
    assert '<form method="post"' in text and "<button" in text and 'type="submit"' in text
    assert "220190002@seu.edu.cn" in text  # the person sees which mailbox they would confirm
    assert "确认" in text and 'lang="zh-CN"' in text
    assert 'name="viewport"' in text
    assert _state(client, token) == (0, "213170001")  # the scanner's visit proved nothing


def test_scanner_visits_change_nothing(client, victim_link):
    token, path = victim_link
    for accept in HTML_ACCEPTS:
        client.get(path, headers={"Accept": accept})
        client.head(path, headers={"Accept": accept})
    for accept in (None, "*/*", "application/json"):
        head = client.head(path, headers={} if accept is None else {"Accept": accept})
        assert head.status_code == 200 and head.data == b""
    assert _state(client, token) == (0, "213170001")


def test_the_page_button_confirms_the_override(client, victim_link):
    token, path = victim_link
    reply = client.post(path, headers={"Accept": BROWSER, "Content-Type": "application/x-www-form-urlencoded"}, data="")
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    text = reply.get_data(as_text=True)
    assert "认证成功" in text and "<form" not in text
    assert _state(client, token) == (1, "220190002")


def test_post_asking_for_json_answers_the_contract_shape(client, victim_link):
    token, path = victim_link
    assert client.post(path).json == OK
    assert _state(client, token) == (1, "220190002")
    assert client.post("/user/mail/verify/a.b.c").json == INVALID


@pytest.mark.parametrize("accept", [None, "application/json", "*/*", "application/json, text/html"])
def test_plain_get_asking_for_json_keeps_the_contract(client, victim_link, accept):
    token, path = victim_link
    reply = client.get(path, headers={} if accept is None else {"Accept": accept})
    assert reply.headers["Content-Type"] == "application/json; charset=utf-8"
    assert reply.data == b'{"status":"success"}'
    assert _state(client, token) == (1, "220190002")


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("bad", ["garbage", "a.b.c", "LOGIN"])
def test_bad_link_shows_the_failure_page(client, user, method, bad):
    token = user[1] if bad == "LOGIN" else bad  # a login token is no mail token
    reply = client.open(f"/user/mail/verify/{token}", method=method, headers={"Accept": BROWSER})
    assert reply.status_code == 200
    text = reply.get_data(as_text=True)
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "无效" in text and "<form" not in text
    assert token not in text
    assert _me(client, user[1])["verified"] == 0


def test_expired_link_page_has_no_button(app, client, victim_link, clock):
    token, path = victim_link
    with app.app_context():
        uuid = _me(client, token)["uuid"]
    import time as real_time

    import jwt as pyjwt

    now = int(real_time.time())
    expired = pyjwt.encode(
        {
            "uuid": uuid,
            "generate": now * 1000,
            "iat": now - 3600,
            "exp": now - 1800,
            "useage": "mail",
            "idcard": "220190002",
        },
        app.config["JWT_SECRET_KEY"],
        algorithm="HS256",
    )
    for method in ("GET", "POST"):
        reply = client.open(f"/user/mail/verify/{expired}", method=method, headers={"Accept": BROWSER})
        assert "无效" in reply.get_data(as_text=True) and "<form" not in reply.get_data(as_text=True)
    assert _state(client, token) == (0, "213170001")


HOSTILE_TOKENS = [
    '"><script>alert(1)</script>',
    "<img src=x onerror=alert(1)>",
    "x'onmouseover='alert(1)",
    "%3Cscript%3Ealert(1)%3C/script%3E",
    "a" * 5000,
]


@pytest.mark.parametrize("hostile", HOSTILE_TOKENS)
def test_the_token_is_never_reflected(client, victim_link, hostile):
    token, path = victim_link
    for target in (f"/user/mail/verify/{hostile}", path + hostile, f"{path}?x={hostile}"):
        for method in ("GET", "POST"):
            reply = client.open(target, method=method, headers={"Accept": BROWSER})
            assert reply.status_code in (200, 404), (target, reply.status_code)
            text = reply.get_data(as_text=True)
            for needle in ("<script", "<img", "onerror", "onmouseover", "alert(1)", "a" * 100):
                assert needle not in text, (target, needle)
    # and the real page does not carry the token either: the form posts to its own URL
    page = client.get(path, headers={"Accept": BROWSER}).get_data(as_text=True)
    assert path.rsplit("/", 1)[1] not in page and "action=" not in page


def test_the_page_needs_no_script_and_escapes_what_users_typed(client, victim_link):
    token, path = victim_link
    page = client.get(path, headers={"Accept": BROWSER})
    text = page.get_data(as_text=True)
    assert "<script" not in text.lower() and "javascript:" not in text.lower() and " on" not in text.lower()
    assert "<b>" not in text and "&lt;b&gt;小王&lt;/b&gt;" in text  # the account's name, escaped
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "form-action 'self'" in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in page.headers["Cache-Control"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"


def test_confirm_page_for_a_deleted_account_is_the_failure_page(app, client, victim_link):
    from sqlalchemy import delete

    from foof.extensions import db
    from foof.models import User

    token, path = victim_link
    with app.app_context():
        db.session.execute(delete(User))
        db.session.commit()
    reply = client.get(path, headers={"Accept": BROWSER}).get_data(as_text=True)
    assert "无效" in reply and "<form" not in reply


def test_a_real_browser_round_trip(app, make_user, token_for, outbox, live_server):
    """Through waitress: GET the link as a browser (page, nothing changed), then submit its
    form the way a browser does (POST to the page's own URL, urlencoded empty body)."""
    uuid = make_user("1", "pw", idcard="213170001")
    token = token_for(uuid)
    status, body = http_post(live_server.url + "/user/mail/verify", {"token": token, "idcard": "220190002"})
    assert json.loads(body) == OK
    url = live_server.url + outbox("mail")[-1]["link"].replace("http://localhost:4000", "")
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": BROWSER}), timeout=30) as reply:
        page = reply.read().decode()
    assert '<form method="post"' in page
    me = json.loads(http_post(live_server.url + "/user/me", {"token": token})[1])
    assert me["verified"] == 0
    request = urllib.request.Request(url, data=b"", headers={"Accept": BROWSER}, method="POST")
    with urllib.request.urlopen(request, timeout=30) as reply:
        assert "认证成功" in reply.read().decode()
    me = json.loads(http_post(live_server.url + "/user/me", {"token": token})[1])
    assert (me["verified"], me["idcard"]) == (1, "220190002")


def test_mail_token_still_no_login_token(app, client, victim_link):
    token, path = victim_link
    mail_token = path.rsplit("/", 1)[1]
    assert client.post("/user/me", data={"token": mail_token}).status_code == 403
    with app.app_context():
        assert tokens.read_mail_token(mail_token)[1] == "220190002"
