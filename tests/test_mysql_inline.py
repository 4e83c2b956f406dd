"""Issue #13: hot reads on waitress's I/O thread without waiting for the database.

On MySQL/MariaDB through mysqlclient the I/O thread sends a hot request's read without
waiting (foof/domain/reads.py ``AsyncReads``, foof/serving.py ``ReplyWatch``) and answers when
the reply has arrived, so a read held up in the database holds up nobody else. On SQLite the
same server answers on the I/O thread too (a WAL read never waits for a writer). The tests
that need a server run on whichever database the suite runs on, and each asserts what that
database promises.
"""

import http.client
import threading
import time

import pytest
from sqlalchemy import select, text, update

from foof import create_app, serving
from foof.domain import reads
from foof.extensions import db
from foof.models import Favourite, Item
from tests.conftest import TEST_DB

MYSQL = TEST_DB.startswith(("mysql", "mariadb"))


@pytest.fixture
def people(make_user, make_item, token_for):
    seller = make_user("13800000001", "pw", username="卖家")
    buyer = make_user("13800000002", "pw", username="买家")
    live = make_item(seller, title="九成新 iPad", price=12.5)
    other = make_item(seller, title="书", price=3)
    return {"seller": seller, "buyer": buyer, "live": live, "other": other, "token": token_for(buyer)}


def _environ(method, path, body=b""):
    import io

    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "CONTENT_LENGTH": str(len(body)) if body else "",
        "CONTENT_TYPE": "application/x-www-form-urlencoded" if body else "",
        "wsgi.input": io.BytesIO(body),
    }


def _deferred_rounds(app, method, path, body=b""):
    """Answer as the I/O thread does: each deferred read done here, then the work again."""
    hot = app.extensions["foof.hot_path"]
    results, rounds = {}, 0
    environ = _environ(method, path, body)
    while True:
        try:
            return hot.answer(environ, take=False, results=results), rounds
        except reads.Deferred as deferred:
            rounds += 1
            assert deferred.key not in results  # each read is asked for once
            with app.app_context():
                results[deferred.key] = reads._reader().run(deferred.statement, deferred.params, deferred.many)


def test_deferred_reads_give_the_same_answers_in_as_many_rounds_as_reads(app, people):
    hot = app.extensions["foof.hot_path"]
    with app.app_context():
        db.session.add(Favourite(uuid=people["buyer"], itemid=people["live"]))
        db.session.commit()
    token = people["token"].encode()
    cases = [
        ("GET", f"/item/{people['live']}", b"", 1),
        ("GET", f"/user/{people['seller']}", b"", 1),
        ("POST", "/user/chat/fetchnew", b"token=" + token, 1),
        ("POST", "/fav/query", b"token=" + token, 2),  # the token's user, then the list
        ("GET", "/products", b"", 1),
    ]
    for method, path, body, expected_rounds in cases:
        answer, rounds = _deferred_rounds(app, method, path, body)
        direct = hot.answer(_environ(method, path, body), take=False)
        assert answer is not None and direct is not None
        assert answer[:3] == direct[:3]  # status, headers, body
        assert rounds == expected_rounds, path
    # Declined the same way: an unknown item, a refused token.
    assert _deferred_rounds(app, "GET", "/item/999999")[0] is None
    assert _deferred_rounds(app, "POST", "/fav/query", b"token=bad")[0] is None


def test_no_other_statement_runs_while_deferring(app, people):
    with app.app_context():
        reads.AsyncReads(db.engine, 1)  # installs the guard on the engine
        with reads.deferring({}):
            with pytest.raises(Exception) as raised:
                db.session.execute(select(Item.title).where(Item.itemid == people["live"])).all()
            with pytest.raises(reads.Deferred):
                reads.first(select(Item.__table__).where(Item.__table__.c.itemid == people["live"]), {})
        db.session.rollback()
        assert "WouldWait" in repr(raised.value) or isinstance(raised.value, reads.WouldWait)
        # Outside, the same statement runs (the guard is per thread and per deferral).
        assert db.session.execute(select(Item.title).where(Item.itemid == people["live"])).scalar() == "九成新 iPad"


def test_the_default_mode_follows_the_driver(app, config):
    mode = serving.inline_mode(app)
    if not MYSQL:
        assert mode == "sync"
        assert serving.inline_mode(app, "off") is None
        return
    with app.app_context():
        driver = db.engine.dialect.driver
    assert mode == ("async" if driver == "mysqldb" else None)
    assert serving.inline_mode(app, "always") == ("async" if driver == "mysqldb" else "sync")
    other = "pymysql" if driver == "mysqldb" else "mysqldb"
    url = config["FOOF_DATABASE_URL"].replace(f"+{driver}://", f"+{other}://")
    second = create_app(dict(config, FOOF_DATABASE_URL=url))
    try:
        assert serving.inline_mode(second) == ("async" if other == "mysqldb" else None)
        assert serving.inline_mode(second, "always") == ("async" if other == "mysqldb" else "sync")
    finally:
        second.extensions["foof.search"].close()
        with second.app_context():
            db.engine.dispose()


class Live:
    def __init__(self, app):
        self.server = serving.create_server(app, "127.0.0.1", 0, threads=2)
        self.port = self.server.effective_port
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()

    def get(self, path, timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path)
            reply = conn.getresponse()
            return reply.status, reply.read()
        finally:
            conn.close()

    def stop(self):
        import waitress.server

        self.server.task_dispatcher.shutdown(timeout=5)
        self.server.trigger.pull_trigger(lambda: waitress.server.wasyncore.close_all(self.server._map))
        self.thread.join(10)
        assert not self.thread.is_alive()


def test_a_read_held_up_in_the_database_holds_up_no_other_request(app, people):
    """MySQL: ``LOCK TABLES items WRITE`` from another session makes every read of ``items``
    wait; meanwhile ``GET /user`` (another table) is answered at once by the same I/O thread,
    and the item is answered when the lock goes. SQLite: a writer holding its write lock (an
    open write transaction) does not hold up the item's read either: it sees the last commit."""
    client = app.test_client()
    expected_user = client.get(f"/user/{people['seller']}").get_data()
    expected_item = client.get(f"/item/{people['live']}").get_data()
    server = Live(app)
    with app.app_context():
        locker = db.engine.connect()
    try:
        if MYSQL:
            locker.execute(text("LOCK TABLES items WRITE"))
        else:
            locker.execute(update(Item).where(Item.itemid == people["live"]).values(title="未提交"))
        found = {}

        def read_item():
            found["item"] = server.get(f"/item/{people['live']}")
            found["at"] = time.monotonic()

        waiting = threading.Thread(target=read_item)
        waiting.start()
        time.sleep(0.5)  # the item's read is in the database (MySQL: waiting for the lock)
        started = time.monotonic()
        assert server.get(f"/user/{people['seller']}", timeout=5) == (200, expected_user)
        assert time.monotonic() - started < 2
        if MYSQL:
            assert "item" not in found  # still held up in the database
            assert server.server.foof_inline_mode == ("async" if app_driver(app) == "mysqldb" else None)
            released = time.monotonic()
            locker.execute(text("UNLOCK TABLES"))
        else:
            released = time.monotonic()
            locker.rollback()
        waiting.join(30)
        assert found["item"] == (200, expected_item)
        if MYSQL:
            assert found["at"] >= released
        if server.server.foof_inline:
            assert server.server.task_dispatcher.answered >= 2
    finally:
        locker.close()
        server.stop()


def app_driver(app):
    with app.app_context():
        return db.engine.dialect.driver


def test_every_read_in_flight_is_answered_in_order_under_load(app, people, make_item):
    """More concurrent hot requests than read connections: the rest wait their turn on the
    I/O thread (MySQL) and every one is answered correctly."""
    items = [make_item(people["seller"], title=f"第{n}件", price=n) for n in range(30)]
    client = app.test_client()
    expected = {itemid: client.get(f"/item/{itemid}").get_data() for itemid in items}
    server = Live(app)
    try:
        answers, errors = {}, []

        def read(itemid):
            try:
                answers[itemid] = server.get(f"/item/{itemid}")
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=read, args=(itemid,)) for itemid in items]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert not errors
        assert answers == {itemid: (200, body) for itemid, body in expected.items()}
        dispatcher = server.server.task_dispatcher
        assert getattr(dispatcher, "answered", 0) >= (1 if server.server.foof_inline else 0)
        if server.server.foof_inline_mode == "async":
            assert dispatcher.sent >= dispatcher.answered and not dispatcher.queued
            assert dispatcher.async_reads.busy == 0
    finally:
        server.stop()
