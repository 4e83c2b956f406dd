"""Attacks against the real server (waitress in a subprocess, issue #15 review): 30 wrong
console logins sent at once from one address, and 30 reports sent at once by one student."""

import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

from sqlalchemy import func, select

from foof.domain import listings
from foof.extensions import db
from foof.models import RateEvent, Report

TOKEN_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _opener():
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))


def _send(opener, url, data=None, headers=None):
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with opener.open(request, timeout=60) as reply:
            return reply.status, reply.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.read().decode("utf-8", "replace")


def _at_once(count, work):
    results, barrier = [None] * count, threading.Barrier(count)

    def run(n):
        barrier.wait()
        results[n] = work(n)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def test_thirty_wrong_console_logins_at_once(app, live_server, make_user):
    make_user("13900000001", "x")
    opener = _opener()
    status, page = _send(opener, live_server.url + "/admin/login")
    assert status == 200
    token = TOKEN_RE.search(page).group(1)

    def attempt(n):
        body = urllib.parse.urlencode({"csrf_token": token, "phone": f"139000001{n:02d}", "password": "guess"})
        return _send(opener, live_server.url + "/admin/login", body.encode())

    results = _at_once(30, attempt)
    assert all(status == 400 for status, _ in results), [status for status, _ in results]
    wrong = sum("手机号或密码错误" in body for _, body in results)
    limited = sum("登录失败次数过多" in body for _, body in results)
    assert (wrong, limited) == (10, 20)
    with app.app_context():
        kept = db.session.execute(select(func.count()).where(RateEvent.kind == "admin:login")).scalar()
        assert kept == 10


def test_thirty_reports_at_once(app, live_server, make_user):
    from tests.test_rest import Person

    reporter = Person(app, "reporter")
    cookie = reporter.client.get_cookie("session")
    assert cookie is not None
    sellers = [make_user(f"138000002{n:02d}", "x") for n in range(15)]
    with app.app_context():
        items = [
            listings.add(s, {"title": "台灯", "type": 1, "price": 5, "depreciatione": 90, "sold": 1}).itemid
            for s in sellers
        ]
    # 15 targets, each sent twice at once: one open report each at most, ten in the hour.
    targets = [("product", item) for item in items] * 2

    def attempt(n):
        kind, target = targets[n]
        body = json.dumps({"kind": kind, "id": target, "reason": "spam", "note": f"n{n}"}).encode()
        headers = {"Content-Type": "application/json", "Cookie": f"session={cookie.value}"}
        status, text = _send(urllib.request.build_opener(), live_server.url + "/reports", body, headers)
        return status, json.loads(text)["state"]

    results = _at_once(30, attempt)
    states = sorted(state for _, state in results)
    assert all(status == 200 for status, _ in results), results
    assert set(states) <= {200, 4010, 4011}, states
    assert states.count(200) == 10, states
    with app.app_context():
        rows = db.session.execute(select(Report.kind, Report.target)).all()
        assert len(rows) == 10 and len(set(rows)) == 10
        assert db.session.execute(select(func.count()).where(RateEvent.kind == "report:user")).scalar() == 10
