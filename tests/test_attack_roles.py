"""No API field changes a role or the verified-student fact (issue #15 review): every key
spelling, both methods and both body kinds of both faces, and an upload route's form fields."""

import json

from foof.domain import cards
from foof.extensions import db
from foof.models import CardReview, User, UserProfile
from tests.conftest import post_json
from tests.test_rest import Person, call, ok

KEYS = ["role", "Role", "ROLE", "identified", "verified", "Verified", "studentCardState", "state", "studentCard"]
VALUES = ["1", 1, True, "2", "/upload/student/x.jpg", ["1"], {"role": "1"}]


def test_no_key_on_either_face_changes_role_or_verified(app, client, user):
    uuid, token = user
    person = Person(app, "attacker1")
    for key in KEYS:
        for value in VALUES:
            form_value = value if isinstance(value, str) else json.dumps(value)
            client.post("/user/modify", data={"token": token, key: form_value, "username": "x"})
            post_json(client, "/user/modify", {"token": token, key: value})
            for method in ("POST",):
                call(person.client, method, "/users/detail", {key: value, "alias": "a"})
                person.client.open(
                    "/users/detail",
                    method=method,
                    data={key: form_value},
                    content_type="application/x-www-form-urlencoded",
                )
    with app.app_context():
        for who in (uuid, person.uuid):
            assert cards.role_of(who) == cards.STUDENT
            assert db.session.get(User, who).verified == 0
            profile = db.session.get(UserProfile, who)
            assert profile is None or (profile.identified in (None, "0") and profile.student_card is None)
        assert db.session.execute(db.select(CardReview)).first() is None
    detail = ok(person("GET", "/users/detail"))
    assert (detail["role"], detail["identified"], detail["studentCardState"], detail["studentCard"]) == (
        "3",
        "0",
        None,
        None,
    )
    assert client.get(f"/user/{uuid}").json["verified"] == 0
