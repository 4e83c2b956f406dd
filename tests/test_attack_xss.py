"""Hostile text rendered in the staff console (issue #15 review): a listing title, usernames,
an alias, a report note, a card rejection reason and a disable reason carrying markup are
shown escaped on every console page; nothing of them comes out as a tag or an attribute."""

import pytest
from markupsafe import escape

from foof.domain import cards
from foof.extensions import db
from foof.models import CardReview
from tests import test_admin_console
from tests.test_rest import Person, ok, png, upload

config = test_admin_console.config
admin = test_admin_console.admin
console = test_admin_console.console
post = test_admin_console.post

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "'><svg onload=alert(3)>",
    "</title></text><script>alert(4)</script>",
    "{{7*7}}{% raw %}",
    "javascript:alert(5)",
]
MARKERS = ("<script>alert", "<img src=x", "<svg onload", "</text><script")


def _pages(console):
    return {
        page: console.get(page).get_data(as_text=True)
        for page in ("/admin", "/admin/cards", "/admin/reports", "/admin/users?q=x", "/admin/audit")
    }


@pytest.mark.parametrize("payload", PAYLOADS)
def test_hostile_text_is_escaped_on_every_page(app, console, payload):
    seller = Person(app, "x_seller")
    reporter = Person(app, "x_reporter")
    student = Person(app, "x_student")
    seller("POST", "/users/detail", {"alias": payload})
    pid = seller.add_product(payload[:30])
    ok(reporter("POST", "/reports", {"kind": "product", "id": pid, "reason": "other", "note": payload}))
    ok(reporter("POST", "/reports", {"kind": "user", "id": seller.uuid, "reason": "other", "note": payload}))
    with app.app_context():
        from foof.models import User

        db.session.get(User, seller.uuid).username = "x" + payload
        db.session.get(User, reporter.uuid).username = "x" + payload
        db.session.commit()
    ok(upload(student.client, "POST", "/users/detail/studentcard", png()))
    pages = _pages(console)
    for page, body in pages.items():
        for marker in MARKERS:
            assert marker not in body, (page, marker)
    assert str(escape(payload)) in pages["/admin/reports"]  # shown, as text
    with app.app_context():
        card = db.session.execute(db.select(CardReview.card)).scalar()
    reply = post(console, f"/admin/cards/{student.uuid}/reject", "/admin/cards", card=card, reason=payload)
    assert "m=rejected" in reply.headers["Location"]
    reply = post(console, f"/admin/users/{seller.uuid}/disable?q=x", "/admin/users?q=x", reason=payload)
    assert "m=disabled" in reply.headers["Location"]
    for page, body in _pages(console).items():
        for marker in MARKERS:
            assert marker not in body, (page, marker)
    with app.app_context():
        assert cards.wire_review(student.uuid) == ("2", payload.strip())
