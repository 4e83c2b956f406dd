"""Issue #13: which MySQL driver a URL picks (foof/extensions.py), and both drivers serving
the same answers from the same database.

``mysql://`` and ``mariadb://`` use mysqlclient when it imports (the ``mysql`` extra) and
PyMySQL otherwise; a URL naming its driver is used as written. On MySQL/MariaDB the suite's
database is opened a second time through the other driver and both must answer alike and
see each other's writes at once; on SQLite the second app is a second instance on the same
file (what a second process would be).
"""

import sys

from sqlalchemy.engine import make_url

from foof import create_app
from foof.extensions import db, mysqlclient_installed, plain_mysql_driver
from tests.conftest import TEST_DB

MYSQL = TEST_DB.startswith(("mysql", "mariadb"))


def test_a_plain_url_uses_mysqlclient_when_it_imports():
    assert mysqlclient_installed()  # the dev install has the mysql extra (Makefile install-dev)
    assert plain_mysql_driver() == "mysqldb"
    assert make_url("mysql://u@h/d").get_dialect().driver == "mysqldb"
    assert make_url("mariadb://u@h/d").get_dialect().driver == "mysqldb"


def test_a_plain_url_falls_back_to_pymysql_without_mysqlclient(monkeypatch):
    monkeypatch.setitem(sys.modules, "MySQLdb", None)  # "import MySQLdb" now fails
    assert not mysqlclient_installed()
    assert plain_mysql_driver() == "pymysql"
    assert make_url("mysql://u@h/d?charset=utf8mb4").get_dialect().driver == "pymysql"
    dialect = make_url("mariadb://u@h/d").get_dialect()
    assert dialect.driver == "pymysql" and dialect.name == "mariadb"


def test_a_named_driver_is_used_as_written(monkeypatch):
    assert make_url("mysql+pymysql://u@h/d").get_dialect().driver == "pymysql"
    assert make_url("mysql+mysqldb://u@h/d").get_dialect().driver == "mysqldb"
    monkeypatch.setitem(sys.modules, "MySQLdb", None)
    assert make_url("mysql+mysqldb://u@h/d").get_dialect().driver == "mysqldb"  # fails when used, not here


def _second_url(url):
    """The suite's database through the other driver (MySQL), or the same file (SQLite)."""
    if not MYSQL:
        return url
    parsed = make_url(url)
    other = "pymysql" if parsed.get_dialect().driver == "mysqldb" else "mysqldb"
    return parsed.set(drivername=f"{parsed.get_backend_name()}+{other}").render_as_string(hide_password=False)


def test_both_drivers_answer_alike_and_see_each_others_writes(app, config, make_user, make_item, token_for):
    seller = make_user("13800000001", "pw", username="卖家", info="四字节 𝄞")
    buyer = make_user("13800000002", "pw")
    live = make_item(seller, title="九成新 iPad / 带笔", price=0.1 + 0.2, note="𝄞")
    make_item(seller, title="书", price=1e21)
    token = token_for(buyer)
    second = create_app(dict(config, FOOF_DATABASE_URL=_second_url(config["FOOF_DATABASE_URL"])))
    try:
        with app.app_context():
            drivers = {db.engine.dialect.driver}
        with second.app_context():
            drivers.add(db.engine.dialect.driver)
        assert drivers == ({"mysqldb", "pymysql"} if MYSQL else {"pysqlite"})
        one, two = app.test_client(), second.test_client()
        reads = [
            ("get", f"/item/{live}", {}),
            ("get", f"/user/{seller}", {}),
            ("get", "/products", {}),
            ("get", "/products?page=1&size=1", {}),
            ("get", f"/products/detail/{live}", {}),
            ("post", "/fav/query", {"data": {"token": token}}),
            ("post", "/user/chat/fetchnew", {"data": {"token": token}}),
            ("post", "/user/me", {"data": {"token": token}}),
        ]

        def same():
            for method, path, kwargs in reads:
                first, other = getattr(one, method)(path, **kwargs), getattr(two, method)(path, **kwargs)
                assert (first.status_code, first.get_data()) == (other.status_code, other.get_data()), path

        same()
        # A write through the second app is seen by the first's next read, hot path included.
        assert two.post("/fav/add", data={"token": token, "data": f"[{live}]"}).get_json() == {"status": "success"}
        listed = one.post("/fav/query", data={"token": token}).get_json()["res"]
        assert [entry["itemid"] for entry in listed] == [live]
        pushed = two.post("/user/chat/push", data={"token": token_for(seller), "to": buyer, "type": 1, "data": "在吗"})
        assert pushed.get_json()["status"] == "success"
        fetched = one.post("/user/chat/fetchnew", data={"token": token}).get_json()["data"]
        assert [message["data"] for message in fetched] == ["在吗"]
        same()
    finally:
        second.extensions["foof.search"].close()
        with second.app_context():
            db.session.remove()
            db.engine.dispose()
