"""The staff console driven in a real browser (issue #15): Debian's Chromium (/usr/bin/chromium,
installed by .ci/run; never a browser download) through Playwright's Python package, against
the real server (python wsgi.py) on the test's database. An admin logs in, approves a student
card, resolves a report by taking the listing down and disables a user; then both APIs are
asked, over HTTP, whether the listing is gone and the user's token is refused."""

import hashlib
import json
import time
import urllib.error
import urllib.request

from playwright.sync_api import sync_playwright

from foof.domain import cards, listings
from tests.conftest import http_post, start_server, stop_server
from tests.test_rest import Person, ok, png, upload

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ADMIN_PHONE, ADMIN_PASSWORD = "13900000001", "admin-secret"


def sha1(text):
    return hashlib.sha1(text.encode()).hexdigest()


def get_json(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as err:
        with err:
            body = err.read()
            return err.code, (json.loads(body) if body.startswith(b"{") else body)


def test_admin_console_in_chromium(app, config, client, make_user, monkeypatch, tmp_path):
    started = time.monotonic()
    upload_root = str(tmp_path / "upload")
    app.config["FOOF_UPLOAD_ROOT"] = upload_root
    monkeypatch.setenv("FOOF_UPLOAD_ROOT", upload_root)  # the server's uploads are the app's

    make_user(ADMIN_PHONE, sha1(ADMIN_PASSWORD))
    seller = make_user("13800000021", sha1("seller-pw"))
    offender = make_user("13800000022", sha1("offender-pw"))
    with app.app_context():
        cards.grant_role(ADMIN_PHONE, "admin")
        itemid = listings.add(
            seller, {"title": "仿冒名牌包", "type": 2, "price": 50, "depreciatione": 90, "sold": 1}
        ).itemid
    student = Person(app, "xiaoli")
    ok(upload(student.client, "POST", "/users/detail/studentcard", png()))
    reporter = Person(app, "zhang_san")
    ok(reporter("POST", "/reports", {"kind": "product", "id": itemid, "reason": "fake", "note": "假货"}))
    token = client.post("/user/login", data={"phonenumber": "13800000022", "password": sha1("offender-pw")}).json[
        "token"
    ]

    proc, url = start_server(config)
    try:
        assert get_json(f"{url}/products/detail/{itemid}")[1]["state"] == 200  # live before
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            try:
                page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
                page.goto(f"{url}/admin/")
                assert page.url.endswith("/admin/login")
                page.fill("input[name=phone]", ADMIN_PHONE)
                page.fill("input[name=password]", ADMIN_PASSWORD)
                page.click("#login")
                page.wait_for_selector("#stat-cards")
                assert page.inner_text("#stat-cards") == "1" and page.inner_text("#stat-reports") == "1"

                page.click("text=学生证审核")
                card = page.locator(f"#card-{student.uuid}")
                assert card.locator("img").evaluate("img => img.complete && img.naturalWidth > 0")
                card.locator("button.approve").click()
                page.wait_for_selector("text=已通过该学生证")

                page.click("text=举报处理")
                report = page.locator("div.box", has_text="仿冒名牌包")
                report.locator("select[name=action]").select_option("takedown")
                report.locator("input[name=reason]").fill("售卖假货")
                report.locator("button").click()
                page.wait_for_selector("text=举报已处理")

                page.click("text=用户")
                page.fill("input[name=q]", "13800000022")
                page.press("input[name=q]", "Enter")
                row = page.locator(f"#user-{offender}")
                row.locator("input[name=reason]").fill("发布违规内容")
                row.locator("button.danger").click()
                page.wait_for_selector("text=账号已停用")

                page.click("text=操作日志")
                log = page.inner_text("table")
                for action in ("card.approve", "item.takedown", "report.takedown", "user.disable"):
                    assert action in log
            finally:
                browser.close()

        # The listing has left both faces.
        assert get_json(f"{url}/products/detail/{itemid}")[1]["state"] == 4006
        status, body = get_json(f"{url}/item/{itemid}")
        assert not (isinstance(body, dict) and body.get("status") == "success"), body
        assert all(entry["id"] != f"{itemid:020d}" for entry in get_json(f"{url}/products")[1]["data"])
        # The disabled user's token is refused by both.
        assert http_post(f"{url}/user/me", {"token": token})[0] == 403
        status, body = get_json(f"{url}/users/detail", {"Authorization": "Bearer " + token})
        assert (status, body["state"]) == (401, 4003)
        # The approved card made a verified student on both faces.
        assert get_json(f"{url}/user/{student.uuid}")[1]["verified"] == 1
        assert ok(student("GET", "/users/detail"))["identified"] == "1"
    finally:
        stop_server(proc)
    assert time.monotonic() - started < 60
