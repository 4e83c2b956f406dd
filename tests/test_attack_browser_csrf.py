"""Cross-site attacks on the staff console in a real browser (issue #15 review): Debian's
Chromium through Playwright against the real server. A logged-in admin opens a hostile page on
another site that auto-submits a form to the console's disable action (with no token, with a
token of the attacker's own session, and with the admin's name for the field), posts with
fetch(), and tries to frame the console. Nothing is disabled, the console is not framed, and
the admin's session still works afterwards."""

import hashlib
import re

from playwright.sync_api import sync_playwright

from foof.domain import cards, moderation
from tests.conftest import start_server, stop_server

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ADMIN_PHONE, ADMIN_PASSWORD = "13900000001", "admin-secret"
TOKEN_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def sha1(text):
    return hashlib.sha1(text.encode()).hexdigest()


def test_cross_site_posts_and_framing_do_nothing(app, config, make_user):
    make_user(ADMIN_PHONE, sha1(ADMIN_PASSWORD))
    victim = make_user("13800000081", sha1("victim"))
    with app.app_context():
        cards.grant_role(ADMIN_PHONE, "admin")
    # A token the attacker got from its own visit of the login page (another session's).
    own = app.test_client().get("/admin/login").get_data(as_text=True)
    foreign_token = TOKEN_RE.search(own).group(1)
    proc, url = start_server(config)
    action = f"{url}/admin/users/{victim}/disable"
    evil = f"""<!doctype html><html><body>
<form id="f1" method="post" action="{action}"><input name="reason" value="csrf"></form>
<form id="f2" method="post" action="{action}" target="t2"><input name="csrf_token" value="{foreign_token}">
<input name="reason" value="csrf"></form>
<iframe name="t2"></iframe>
<iframe id="framed" src="{url}/admin/users?q=138"></iframe>
<script>
document.getElementById("f2").submit();
fetch("{action}", {{method: "POST", mode: "no-cors", credentials: "include",
  body: new URLSearchParams({{reason: "csrf", csrf_token: "{foreign_token}"}})}})
  .finally(() => setTimeout(() => document.getElementById("f1").submit(), 500));
</script></body></html>"""
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            try:
                page = browser.new_page()
                page.goto(f"{url}/admin/login")
                page.fill("input[name=phone]", ADMIN_PHONE)
                page.fill("input[name=password]", ADMIN_PASSWORD)
                page.click("#login")
                page.wait_for_selector("#stat-cards")

                page.route(
                    "http://evil.example/**",
                    lambda route: route.fulfill(status=200, content_type="text/html", body=evil),
                )
                page.goto("http://evil.example/")
                page.wait_for_url(re.compile(r".*/admin.*"), timeout=15000)  # f1's navigation landed
                page.wait_for_load_state()
                # The cookie was not sent cross-site: the console asked for a login.
                assert page.url.endswith("/admin/login"), page.url
                with app.app_context():
                    assert not moderation.is_disabled(victim)

                # The frame of the console on the hostile page stayed empty (frame-ancestors).
                page.goto("http://evil.example/")
                page.wait_for_timeout(1500)
                framed = page.frame_locator("#framed").locator("body")
                assert framed.count() == 0 or "用户" not in (framed.inner_text(timeout=1000) or "")

                # The admin's own session still works, and the real button still does.
                page.goto(f"{url}/admin/users?q=13800000081")
                row = page.locator(f"#user-{victim}")
                row.locator("input[name=reason]").fill("真的停用")
                row.locator("button.danger").click()
                page.wait_for_selector("text=账号已停用")
            finally:
                browser.close()
    finally:
        stop_server(proc)
    with app.app_context():
        assert moderation.is_disabled(victim)
