"""Another student reaching someone's student card (issue #15 review): every spelling of its
path on /upload (case, slashes, dots, percent-encoding) is a 404 for a stranger and for
nobody, while the owner and staff see it; an old card replaced by a new one is not served to
its owner either."""

from urllib.parse import quote

import pytest

from foof.domain import cards
from tests.test_rest import Person, ok, png, upload


@pytest.fixture
def config(config, tmp_path):
    config["FOOF_UPLOAD_ROOT"] = str(tmp_path / "upload")
    return config


def _variants(path):
    name = path[len("/upload/") :]  # student/<uuid>.jpg
    base = name.split("/", 1)[1]
    return [
        path,
        path + "/",
        path.upper(),
        "/upload/STUDENT/" + base,
        "/upload/Student/" + base,
        "/upload//" + name,
        "/upload/./" + name,
        "/upload/x/../" + name,
        "/upload/student/./" + base,
        "/upload/student//" + base,
        "/upload/" + quote(name, safe=""),
        "/upload/%73tudent/" + base,
        "/upload/student%2F" + base,
        "/upload/student%5C" + base,
        "/upload/student\\" + base,
        "/UPLOAD/" + name,
        "/upload/" + name + "%00",
        "/upload/" + name + "?x=1",
        "/upload/" + name + "#x",
        "/upload/../upload/" + name,
    ]


def test_no_spelling_of_a_card_path_reaches_a_stranger(app):
    owner = Person(app, "card_owner2")
    path = ok(upload(owner.client, "POST", "/users/detail/studentcard", png()))
    assert path.startswith("/upload/student/")
    with owner.client.get(path) as image:
        assert image.status_code == 200 and image.data[:2] == b"\xff\xd8"
    stranger = Person(app, "stranger2")
    for client, who in ((stranger.client, "stranger"), (app.test_client(), "nobody")):
        for variant in _variants(path):
            reply = client.get(variant, follow_redirects=True)  # "//" is redirected to "/"
            assert reply.status_code in (400, 404), (who, variant, reply.status_code)
            assert reply.data[:2] != b"\xff\xd8", (who, variant)
            reply.close()
    staff = Person(app, "moderator2")
    with app.app_context():
        cards.grant_role("moderator2", "moderator")
    with staff.client.get(path) as reply:
        assert reply.status_code == 200


def test_a_replaced_card_is_gone_for_its_owner_too(app):
    owner = Person(app, "card_owner3")
    first = ok(upload(owner.client, "POST", "/users/detail/studentcard", png()))
    second = ok(upload(owner.client, "POST", "/users/detail/studentcard", png(colour=(1, 2, 3))))
    assert first != second
    with owner.client.get(second) as reply:
        assert reply.status_code == 200
    with owner.client.get(first) as reply:
        assert reply.status_code == 404
