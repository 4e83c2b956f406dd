"""``seed-demo`` fills a database the legacy routes can serve."""

import hashlib

from sqlalchemy import func, select

from foof.extensions import db
from foof.models import Chat, Favourite, Item, User


def test_seed_demo(app, runner, client):
    result = runner.invoke(args=["seed-demo", "--users", "12", "--items", "80", "--messages", "40"])
    assert result.exit_code == 0, result.output
    assert "seeded 12 users, 80 items, 40 messages" in result.output
    with app.app_context():
        count = lambda model: db.session.execute(select(func.count()).select_from(model)).scalar()  # noqa: E731
        assert (count(User), count(Item), count(Chat)) == (12, 80, 40)
        assert count(Favourite) > 0
        types = set(db.session.execute(select(Item.type)).scalars())
        states = set(db.session.execute(select(Item.sold)).scalars())
        phone = db.session.execute(select(User.phonenumber).limit(1)).scalar()
    assert types == set(range(1, 9))
    assert {1, -1} <= states and states & {2, 3, -2, -3}
    item = client.get("/item/1").json
    assert item["status"] == "success" and any("\u4e00" <= ch <= "\u9fff" for ch in item["title"])
    with client.get("/" + item["imgurl"].split("++")[0]) as picture:
        assert picture.status_code == 200 and picture.headers["Content-Type"] == "image/jpeg"
    password = hashlib.sha1(b"demo123").hexdigest()
    assert client.post("/user/login", data={"phonenumber": phone, "password": password}).json["status"] == "success"


def test_seed_demo_twice_adds_more(app, runner):
    assert runner.invoke(args=["seed-demo", "--users", "3", "--items", "5"]).exit_code == 0
    result = runner.invoke(args=["seed-demo", "--users", "3", "--items", "5"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(User)).scalar() == 6
