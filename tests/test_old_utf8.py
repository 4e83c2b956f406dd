"""docs/legacy-wire.md §4: on an old MySQL ``utf8`` (3-byte) table a 4-byte character is a handled
failure, not a 500, and nothing is half-written. SQLite has no such tables: there the same
request simply stores the emoji."""

from sqlalchemy import text

from foof.extensions import db
from tests.conftest import TEST_DB


def test_emoji_on_old_utf8_table(app, client, user):
    _, token = user
    if not TEST_DB:
        assert client.post("/user/modify", data={"token": token, "info": "出闲置😀"}).json == {"status": "success"}
        assert client.post("/user/me", data={"token": token}).json["info"] == "出闲置😀"
        return
    with app.app_context():
        db.session.execute(text("ALTER TABLE users CONVERT TO CHARACTER SET utf8mb3 COLLATE utf8mb3_general_ci"))
        db.session.commit()
    try:
        reply = client.post("/user/modify", data={"token": token, "username": "小王", "info": "出闲置😀"})
        assert reply.status_code == 200
        assert reply.json == {"status": "failure", "info": "invaild request"}
        me = client.post("/user/me", data={"token": token}).json
        assert me["username"] == "新手咸鱼人员"  # the whole change was refused
        assert client.post("/user/modify", data={"token": token, "info": "出闲置"}).json == {"status": "success"}
    finally:
        with app.app_context():
            db.session.execute(text("ALTER TABLE users CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
            db.session.commit()
