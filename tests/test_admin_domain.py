"""Issue #15 rules through the domain and both faces: roles and grant-role, the one
verified-student fact, student-card reviews, take-down, held listings of a disabled seller,
and the audit log. On both databases."""

import hashlib

import pytest
from sqlalchemy import func, select

from foof.domain import audit, cards, listings, moderation
from foof.domain.errors import Invalid, ItemNotFound, UserNotFound
from foof.extensions import db
from foof.models import AuditEntry, HeldListing, Item, Order, User, UserProfile
from tests.test_rest import Person, call, ok, png, upload


@pytest.fixture
def config(config, tmp_path):
    config["FOOF_UPLOAD_ROOT"] = str(tmp_path / "upload")
    return config


def _sha1(text):
    return hashlib.sha1(text.encode()).hexdigest()


def indexed(app, word):
    """Item ids the search index itself finds for ``word`` (after the pending updates)."""
    backend = app.extensions["foof.search"]
    backend.flush(10)
    return {int(key) for key, _score, _source in backend.search("good", [word], 0, 20)[1]}


def status_of(client, path):
    reply = client.get(path)
    reply.close()  # a served file stays open until the reply is closed
    return reply.status_code


def actions(app):
    with app.app_context():
        rows = db.session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
        return [(e.actor, e.action, e.target_kind, e.target, e.reason) for e in rows]


# -- roles ---------------------------------------------------------------------------------------
def test_grant_role_by_phone_or_login_and_audited(app, runner, make_user):
    uuid = make_user("13800000001", "x")
    Person(app, "lao_wang")
    result = runner.invoke(args=["grant-role", "13800000001", "admin"])
    assert result.exit_code == 0, result.output
    assert "admin" in result.output
    assert runner.invoke(args=["grant-role", "lao_wang", "moderator"]).exit_code == 0
    with app.app_context():
        assert cards.role_of(uuid) == cards.ADMIN
        assert cards.is_staff(uuid)
        wang = db.session.execute(select(UserProfile).where(UserProfile.login == "lao_wang")).scalar_one()
        assert wang.role == cards.MODERATOR
    assert runner.invoke(args=["grant-role", "13800000001", "student"]).exit_code == 0
    with app.app_context():
        assert not cards.is_staff(uuid)
    assert [a[:2] for a in actions(app)] == [(0, "role.grant")] * 3
    bad = runner.invoke(args=["grant-role", "13899999999", "admin"])
    assert bad.exit_code != 0 and "no user" in bad.output
    assert runner.invoke(args=["grant-role", "13800000001", "root"]).exit_code != 0


def test_neither_face_can_set_a_role_or_identified(app, client, user):
    uuid, token = user
    client.post("/user/modify", data={"token": token, "verified": "1", "role": "1"})
    person = Person(app, "xiaoming")
    person("POST", "/users/detail", {"role": "1", "identified": "1", "studentCardState": "1"})
    with app.app_context():
        assert cards.role_of(uuid) == cards.STUDENT and cards.role_of(person.uuid) == cards.STUDENT
    detail = ok(person("GET", "/users/detail"))
    assert (detail["role"], detail["identified"], detail["studentCardState"]) == ("3", "0", None)


# -- the verified-student fact and card reviews -------------------------------------------------
def test_card_upload_queues_approve_verifies_on_both_faces(app, client):
    person = Person(app, "xiaohong")
    path = ok(upload(person.client, "POST", "/users/detail/studentcard", png()))
    detail = ok(person("GET", "/users/detail"))
    assert list(detail)[-2:] == ["studentCardState", "studentCardReason"]
    assert (detail["identified"], detail["studentCardState"], detail["studentCardReason"]) == ("0", "0", None)
    with app.app_context():
        [review] = cards.pending()
        assert (review.uuid, "/upload/" + review.card) == (person.uuid, path)
        cards.approve(person.uuid, review.card, actor=7)
        assert cards.pending() == []
    detail = ok(person("GET", "/users/detail"))
    assert (detail["identified"], detail["studentCardState"]) == ("1", "1")
    assert client.get(f"/user/{person.uuid}").json["verified"] == 1  # the legacy face agrees
    assert actions(app) == [(7, "card.approve", "user", person.uuid, "")]


def test_mail_verified_student_is_identified_on_rest(app, client, make_user):
    uuid = make_user("13800000002", _sha1("pw123456"), verified=1)
    bearer = {
        "Authorization": "Bearer "
        + client.post("/user/login", data={"phonenumber": "13800000002", "password": _sha1("pw123456")}).json["token"]
    }
    assert ok(call(client, "GET", "/users/detail", headers=bearer))["identified"] == "1"
    with app.app_context():
        assert cards.identified(db.session.get(User, uuid)) == "1"


def test_reject_shows_the_reason_and_a_new_upload_queues_again(app):
    person = Person(app, "xiaogang")
    ok(upload(person.client, "POST", "/users/detail/studentcard", png()))
    with app.app_context():
        card = cards.pending()[0].card
        with pytest.raises(Invalid):
            cards.reject(person.uuid, card, "   ", actor=3)
        with pytest.raises(Invalid):
            cards.reject(person.uuid, card, "x" * 256, actor=3)
        cards.reject(person.uuid, card, "照片模糊，请重新上传", actor=3)
        with pytest.raises(cards.CardChanged):  # decided once only
            cards.approve(person.uuid, card, actor=3)
    detail = ok(person("GET", "/users/detail"))
    assert (detail["identified"], detail["studentCardState"], detail["studentCardReason"]) == (
        "0",
        "2",
        "照片模糊，请重新上传",
    )
    ok(upload(person.client, "POST", "/users/detail/studentcard", png(20, 20)))
    detail = ok(person("GET", "/users/detail"))
    assert (detail["studentCardState"], detail["studentCardReason"]) == ("0", None)
    with app.app_context():
        new = cards.pending()[0].card
        assert new != card
        with pytest.raises(cards.CardChanged):  # a decision names the card it saw
            cards.approve(person.uuid, card, actor=3)
        cards.approve(person.uuid, new, actor=3)


def test_card_image_only_for_owner_and_staff(app, make_user):
    owner = Person(app, "card_owner")
    path = ok(upload(owner.client, "POST", "/users/detail/studentcard", png()))
    assert status_of(owner.client, path) == 200
    stranger = Person(app, "stranger1")
    assert status_of(stranger.client, path) == 404
    assert status_of(app.test_client(), path) == 404
    staff = Person(app, "moderator1")
    with app.app_context():
        cards.grant_role("moderator1", "moderator")
    assert status_of(staff.client, path) == 200


# -- take-down ---------------------------------------------------------------------------------
def test_take_down_leaves_both_faces_search_and_cancels_the_order(app, client, make_user, token_for):
    seller, buyer = make_user("13800000011", "a"), make_user("13800000012", "b")
    with app.app_context():
        itemid = listings.add(
            seller, {"title": "违禁刀具", "type": 1, "price": 5, "depreciatione": 90, "sold": 1}
        ).itemid
        from foof.domain import orders

        orders.create(buyer, itemid, "0")
    assert indexed(app, "刀具") == set()  # reserved: not in search
    with app.app_context():
        orders_open = db.session.execute(select(Order.state).where(Order.itemid == itemid)).scalars().all()
        assert orders_open == ["0"]
        assert moderation.take_down(itemid, "违禁物品", actor="5") == itemid
        with pytest.raises(ItemNotFound):
            moderation.take_down(itemid, "again", actor="5")
        assert db.session.execute(select(Order.state).where(Order.itemid == itemid)).scalars().all() == ["1"]
    assert client.get(f"/item/{itemid}").json.get("status") != "success"
    assert call(client, "GET", f"/products/detail/{itemid}").json["state"] == 4006
    assert actions(app) == [(5, "item.takedown", "item", itemid, "违禁物品")]


def test_take_down_of_a_listing_on_sale_removes_it_from_search(app, client, make_user):
    seller = make_user("13800000013", "a")
    with app.app_context():
        itemid = listings.add(
            seller, {"title": "山寨耳机", "type": 1, "price": 5, "depreciatione": 90, "sold": 1}
        ).itemid
    assert indexed(app, "耳机") == {itemid}
    assert [p["id"] for p in ok(call(client, "GET", "/products"))] == [f"{itemid:020d}"]
    with app.app_context():
        moderation.take_down(str(itemid), "假货", actor="cli")
    assert indexed(app, "耳机") == set()
    assert ok(call(client, "GET", "/products")) == []
    assert client.post("/item/search", data={"method": "good", "query": "耳机"}).json["hits"]["hits"] == []


# -- disable / enable: held listings ------------------------------------------------------------
def test_disable_holds_listings_and_enable_restores_them(app, client, make_user, token_for):
    seller, buyer = make_user("13800000021", "a"), make_user("13800000022", "b")
    with app.app_context():
        on_sale = listings.add(
            seller, {"title": "二手台灯", "type": 1, "price": 5, "depreciatione": 90, "sold": 1}
        ).itemid
        want = listings.add(
            seller, {"title": "求购台灯罩", "type": 1, "price": 5, "depreciatione": 90, "sold": -1}
        ).itemid
        reserved = listings.add(
            seller, {"title": "台灯底座", "type": 1, "price": 5, "depreciatione": 90, "sold": 1}
        ).itemid
        from foof.domain import orders

        orders.create(buyer, reserved, "0")
        other = listings.add(
            buyer, {"title": "别人的台灯", "type": 1, "price": 5, "depreciatione": 90, "sold": 1}
        ).itemid
    assert indexed(app, "台灯") == {on_sale, other}
    with app.app_context():
        assert moderation.disable(seller, "骗子", actor="9") is True
        held = {h.itemid: h.previous for h in db.session.execute(select(HeldListing)).scalars()}
        assert held == {on_sale: 1, want: -1, reserved: 1}  # the reservation was cancelled
        assert db.session.execute(select(Order.state).where(Order.itemid == reserved)).scalar() == "1"
    assert indexed(app, "台灯") == {other}
    for itemid in (on_sale, want, reserved):
        assert client.get(f"/item/{itemid}").json.get("status") != "success"
        assert call(client, "GET", f"/products/detail/{itemid}").json["state"] == 4006
    assert [p["id"] for p in ok(call(client, "GET", "/products"))] == [f"{other:020d}"]
    assert client.post("/user/published", data={"uuid": seller}).json == []
    with app.app_context():
        assert moderation.enable(seller, actor="9") is True
        states = dict(db.session.execute(select(Item.itemid, Item.sold).where(Item.uuid == seller)).all())
        assert states == {on_sale: 1, want: -1, reserved: 1}
        assert db.session.execute(select(func.count()).select_from(HeldListing)).scalar() == 0
    assert indexed(app, "台灯") == {on_sale, other, reserved}
    assert [a[1] for a in actions(app)] == ["user.disable", "user.enable"]


def test_a_held_listing_taken_down_never_comes_back(app, make_user):
    seller = make_user("13800000031", "a")
    with app.app_context():
        itemid = listings.add(seller, {"title": "假证件", "type": 8, "price": 5, "depreciatione": 90, "sold": 1}).itemid
        moderation.disable(seller, actor="2")
        moderation.take_down(itemid, "违禁", actor="2")
        moderation.enable(seller, actor="2")
        assert db.session.get(Item, itemid).sold == listings.DELETED


def test_unknown_targets_are_refused(app):
    with app.app_context():
        with pytest.raises(UserNotFound):
            moderation.disable(999)
        with pytest.raises(ItemNotFound):
            moderation.take_down("abc")
        with pytest.raises(ItemNotFound):
            moderation.take_down(12345)
        assert audit.count() == 0


def test_audit_entries_newest_first(app, make_user):
    uuid = make_user("13800000041", "a")
    with app.app_context():
        moderation.disable(uuid, "r1", actor="4")
        moderation.enable(uuid, actor="4")
        moderation.unlock(uuid, actor="4")
        assert [e.action for e in audit.entries()] == ["user.unlock", "user.enable", "user.disable"]
        assert audit.count() == 3


def test_a_disabled_seller_cannot_add_a_listing(app, make_user):
    """A request already past its token check when the account was disabled adds nothing."""
    seller = make_user("13800000051", "a")
    with app.app_context():
        moderation.disable(seller, actor="1")
        with pytest.raises(listings.SellerDisabled):
            listings.add(seller, {"title": "漏网之鱼", "type": 1, "price": 5, "depreciatione": 90, "sold": 1})
        assert db.session.execute(select(func.count()).select_from(Item)).scalar() == 0
