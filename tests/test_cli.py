"""The admin commands: ``init-db``, ``check-db`` and ``create-user`` (docs/legacy-wire.md §4-§8).

The legacy schema tests need a database that looks like the one the old koa/Sequelize server
left behind (the seed's "SQL table fields": ``studentid int(11)``, chats ``type
varchar(255)``, ``info`` NOT NULL, no index but the primary keys). They must not touch the
shared test database, so each one gets its own: a separate SQLite file in ``tmp_path``, or on
MySQL/MariaDB (``FOOF_TEST_DATABASE_URL``) a scratch database ``foof_scratch_<random>`` on the
same server, created and dropped here with raw SQL.

Those tests build their app with ``create_app`` themselves instead of using the ``app``
fixture, because that fixture creates the FOOF schema (and with it the new indexes) before
the test starts, which is exactly what ``init-db`` must be shown to do.
"""

import hashlib
import os
import secrets

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from foof import create_app
from foof.extensions import db
from foof.models import LEGACY_TABLES

TEST_DB = os.environ.get("FOOF_TEST_DATABASE_URL", "")  # as conftest reads it
MYSQL = TEST_DB.startswith("mysql")


def sha1(text_):
    return hashlib.sha1(text_.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------------------------
# The old server's schema, column for column as the seed lists it.

SEED_SCHEMA = {
    "users": [
        ("uuid", "pk"),
        ("password", "varchar"),
        ("username", "varchar"),
        ("phonenumber", "varchar"),
        ("idcard", "varchar"),
        ("studentid", "int"),
        ("address", "varchar"),
        ("avatarurl", "varchar"),
        ("verified", "int"),
        ("score", "int"),
        ("info", "varchar"),
    ],
    "items": [
        ("itemid", "pk"),
        ("uuid", "int"),
        ("title", "varchar"),
        ("type", "int"),
        ("price", "double"),
        ("imgurl", "varchar"),
        ("depreciatione", "int"),
        ("note", "varchar"),
        ("sold", "int"),
        ("to", "int null"),
    ],
    "favourites": [("id", "pk"), ("itemid", "int"), ("uuid", "int")],
    "chats": [
        ("id", "pk"),
        ("from", "int"),
        ("to", "int"),
        ("type", "varchar"),
        ("data", "varchar"),
        ("fetched", "bool"),
        ("createdAt", "datetime"),
        ("updatedAt", "datetime"),
    ],
}

MYSQL_TYPES = {
    "pk": "int(11) NOT NULL AUTO_INCREMENT",
    "int": "int(11) NOT NULL",
    "int null": "int(11) DEFAULT NULL",
    "varchar": "varchar(255) NOT NULL",
    "double": "double NOT NULL",
    "bool": "tinyint(1) NOT NULL",
    "datetime": "datetime NOT NULL",
}
# SQLite never ran the old server; these are the same types in SQLite's spelling
# (SQLAlchemy cannot reflect ``int(11)`` on SQLite without a warning).
SQLITE_TYPES = {
    "pk": "INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT",
    "int": "INTEGER NOT NULL",
    "int null": "INTEGER DEFAULT NULL",
    "varchar": "VARCHAR(255) NOT NULL",
    "double": "DOUBLE NOT NULL",
    "bool": "BOOLEAN NOT NULL",
    "datetime": "DATETIME NOT NULL",
}

OLD_ROWS = {
    "users": "INSERT INTO `users` VALUES (1, '{pw}', '旧用户', '13800000000', '2130001', "
    "213170001, '九龙湖', 'image/avatar/default.jpg', 1, 12, '老用户')",
    "items": "INSERT INTO `items` VALUES (1, 1, '旧台灯', 5, 12.5, 'image/item/default.jpg', 9, '八成新', 1, NULL)",
    "favourites": "INSERT INTO `favourites` VALUES (1, 1, 1)",
    "chats": "INSERT INTO `chats` VALUES (1, 1, 1, '1', '你好', 0, '2019-09-04 14:29:05', '2019-09-04 14:29:05')",
}
OLD_PASSWORD = sha1("1111")  # the old server stored what the client sent, in clear


def legacy_ddl(schema):
    """``CREATE TABLE`` statements for ``schema`` in the scratch database's dialect."""
    types = MYSQL_TYPES if MYSQL else SQLITE_TYPES
    statements = []
    for table, columns in schema.items():
        parts = [f"`{name}` {types[kind]}" for name, kind in columns]
        if MYSQL:
            parts.append(f"PRIMARY KEY (`{columns[0][0]}`)")
            tail = " ENGINE=InnoDB DEFAULT CHARSET=utf8"
        else:
            tail = ""
        statements.append(f"CREATE TABLE `{table}` ({', '.join(parts)}){tail}")
    return statements


def seed_schema(**changes):
    """A copy of :data:`SEED_SCHEMA`; ``table=None`` drops a table, ``table=[...]`` replaces it."""
    schema = {name: list(columns) for name, columns in SEED_SCHEMA.items()}
    for name, columns in changes.items():
        if columns is None:
            schema.pop(name, None)
        else:
            schema[name] = columns
    return schema


# --------------------------------------------------------------------------------------------
# Fixtures: a scratch database and an app bound to it (no schema created for it).


@pytest.fixture
def scratch_url(tmp_path):
    if not TEST_DB:
        yield f"sqlite:///{tmp_path / 'legacy.db'}"
        return
    url = make_url(TEST_DB)
    # Named after the test database, so parallel runs on one server never share a scratch name.
    name = f"{url.database}_scratch_{secrets.token_hex(6)}"
    server = create_engine(url.set(database=""))
    with server.begin() as conn:
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        server.dispose()


@pytest.fixture
def raw(scratch_url):
    """A plain SQLAlchemy engine on the scratch database, for raw SQL."""
    engine = create_engine(scratch_url)
    yield engine
    engine.dispose()


def run_sql(engine, *statements):
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


@pytest.fixture
def scratch_app(config, scratch_url):
    config["FOOF_DATABASE_URL"] = scratch_url
    app = create_app(config)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def context_invoker(app, runner):
    """``invoke(*args)``: run a command the way ``flask --app foof …`` does.

    The ``flask`` command (FlaskGroup) pushes an app context before any command runs;
    ``app.test_cli_runner()`` invokes ``app.cli`` directly and does not, so the context is
    pushed here. :func:`test_commands_run_from_the_test_cli_runner` checks the bare runner.
    """

    def invoke(*args):
        with app.app_context():
            return runner.invoke(args=list(args))

    return invoke


@pytest.fixture
def cli(app, runner):
    return context_invoker(app, runner)


@pytest.fixture
def scratch_cli(scratch_app):
    return context_invoker(scratch_app, scratch_app.test_cli_runner())


@pytest.fixture
def old_database(raw):
    """The scratch database as the old server left it, one row in each table."""
    run_sql(raw, *legacy_ddl(SEED_SCHEMA))
    run_sql(raw, *(sql.format(pw=OLD_PASSWORD) for sql in OLD_ROWS.values()))
    return raw


def snapshot(engine):
    """Columns (name, type, nullability, default), table options and rows of the legacy tables."""
    inspector = inspect(engine)
    out = {}
    with engine.connect() as conn:
        for table in LEGACY_TABLES:
            if table not in inspector.get_table_names():
                continue
            columns = [
                (c["name"], str(c["type"]), c["nullable"], c.get("default")) for c in inspector.get_columns(table)
            ]
            key = SEED_SCHEMA[table][0][0]
            rows = [tuple(r) for r in conn.execute(text(f"SELECT * FROM `{table}` ORDER BY `{key}`"))]
            out[table] = {
                "columns": columns,
                "options": inspector.get_table_options(table),
                "pk": inspector.get_pk_constraint(table)["constrained_columns"],
                "rows": rows,
            }
    return out


def indexes(engine, table):
    """``{column tuple: unique?}`` for every secondary index / unique constraint of ``table``."""
    inspector = inspect(engine)
    found = {}
    for ix in inspector.get_indexes(table):
        found[tuple(ix["column_names"])] = bool(ix.get("unique"))
    for uc in inspector.get_unique_constraints(table):
        found[tuple(uc["column_names"])] = True
    return found


#: docs/legacy-wire.md §4: "Indexes the old server never had are added by new installs".
NEW_INDEXES = [
    ("items", ("uuid",), False),
    ("items", ("to",), False),
    ("favourites", ("uuid", "itemid"), True),
    ("chats", ("to", "fetched"), False),
]


def assert_clean_exit(result):
    """Exited by itself (code or SystemExit), not by an uncaught exception."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output


def lines(result, prefix):
    return [line for line in result.output.splitlines() if line.startswith(prefix)]


# --------------------------------------------------------------------------------------------
# Running the commands


def test_commands_run_from_the_test_cli_runner(runner):
    """``app.test_cli_runner()`` is Flask's documented way to run an app's commands (and what
    ``@app.cli.command`` / ``@with_appcontext`` commands support); a command must not need the
    caller to push an app context first."""
    result = runner.invoke(args=["check-db"])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 0, result.output


# --------------------------------------------------------------------------------------------
# init-db


def test_init_db_on_empty_database_creates_everything_and_is_idempotent(scratch_cli, raw):
    first = scratch_cli("init-db")
    assert first.exit_code == 0, first.output
    names = set(inspect(raw).get_table_names())
    assert set(LEGACY_TABLES) <= names
    assert set(db.metadata.tables) <= names
    for table, columns, unique in NEW_INDEXES:
        assert columns in indexes(raw, table), (table, columns)
        if unique:
            assert indexes(raw, table)[columns] is True

    second = scratch_cli("init-db")
    assert second.exit_code == 0, second.output
    assert "all present" in second.output
    assert "indexes added" not in second.output
    assert "could not" not in second.output


def test_init_db_on_old_database_adds_tables_and_indexes_but_never_alters(scratch_cli, old_database):
    before = snapshot(old_database)
    assert set(before) == set(LEGACY_TABLES)
    for table, columns, _ in NEW_INDEXES:  # the fixture really is the old schema
        assert columns not in indexes(old_database, table)

    first = scratch_cli("init-db")
    assert first.exit_code == 0, first.output
    assert "could not" not in first.output

    after = snapshot(old_database)
    assert after == before  # same columns, types, nullability, defaults, options and rows
    studentid = dict((c[0], c[1]) for c in after["users"]["columns"])["studentid"]
    assert "INT" in studentid.upper()  # not turned into VARCHAR
    chat_type = dict((c[0], c[1]) for c in after["chats"]["columns"])["type"]
    assert "CHAR" in chat_type.upper()  # not turned into INT

    names = set(inspect(old_database).get_table_names())
    new_tables = set(db.metadata.tables) - set(LEGACY_TABLES)
    assert new_tables and new_tables <= names
    for table, columns, unique in NEW_INDEXES:
        found = indexes(old_database, table)
        assert columns in found, (table, columns, found)
        assert found[columns] is unique, (table, columns, found)

    second = scratch_cli("init-db")
    assert second.exit_code == 0, second.output
    assert "all present" in second.output
    assert "indexes added" not in second.output
    assert snapshot(old_database) == before


def test_init_db_keeps_duplicate_favourites_it_cannot_index(scratch_cli, old_database):
    """Old favourites tables hold duplicates (1.9): the rows survive, the rest still happens."""
    run_sql(old_database, "INSERT INTO `favourites` VALUES (2, 1, 1)")
    before = snapshot(old_database)

    result = scratch_cli("init-db")
    assert_clean_exit(result)
    assert "favourites" in result.output  # says what it could not do

    assert snapshot(old_database) == before
    assert ("uuid", "itemid") not in indexes(old_database, "favourites")
    assert ("uuid",) in indexes(old_database, "items")
    assert ("to", "fetched") in indexes(old_database, "chats")

    check = scratch_cli("check-db")
    assert check.exit_code == 0, check.output
    assert not lines(check, "INCOMPATIBLE")


def test_old_database_serves_old_rows_after_init_db(scratch_app, scratch_cli, old_database):
    """check-db calls ``studentid int`` "works as is": the old user can log in and
    ``studentid`` is still rendered as text (docs/legacy-wire.md §4)."""
    assert scratch_cli("init-db").exit_code == 0
    client = scratch_app.test_client()
    reply = client.post("/user/login", data={"phonenumber": "13800000000", "password": OLD_PASSWORD})
    body = reply.get_json()
    assert body["status"] == "success", body
    assert body["info"]["uuid"] == 1
    assert body["info"]["username"] == "旧用户"
    assert body["info"]["studentid"] == "213170001"
    assert b'"studentid":"213170001"' in reply.data
    me = client.post("/user/me", data={"token": body["token"]})
    assert b'"studentid":"213170001"' in me.data


# --------------------------------------------------------------------------------------------
# check-db


def test_check_db_fresh_schema_is_compatible(cli):
    result = cli("check-db")
    assert result.exit_code == 0, result.output
    assert "compatible" in result.output
    assert "INCOMPATIBLE" not in result.output
    assert "missing" not in result.output


def test_check_db_after_init_db_on_empty_database(scratch_cli):
    assert scratch_cli("init-db").exit_code == 0
    result = scratch_cli("check-db")
    assert result.exit_code == 0, result.output
    assert "compatible" in result.output
    assert "INCOMPATIBLE" not in result.output
    assert "missing" not in result.output


def test_check_db_old_schema_is_compatible_with_notes(scratch_cli, old_database):
    result = scratch_cli("check-db")
    assert result.exit_code == 0, result.output
    assert not lines(result, "INCOMPATIBLE"), result.output
    assert "compatible" in result.output
    notes = [line for line in result.output.splitlines() if "INCOMPATIBLE" not in line]
    # the differences the old server really had are mentioned, and tolerated
    assert any("studentid" in line for line in notes), result.output
    assert any("chats" in line and "type" in line for line in notes), result.output
    # every index the old server lacked is named as missing
    for table, columns, _ in NEW_INDEXES:
        index = next(ix for ix in db.metadata.tables[table].indexes if tuple(c.name for c in ix.columns) == columns)
        assert any(index.name in line and "missing" in line for line in notes), (index.name, result.output)


def test_check_db_old_schema_after_init_db_no_longer_misses_indexes(scratch_cli, old_database):
    assert scratch_cli("init-db").exit_code == 0
    result = scratch_cli("check-db")
    assert result.exit_code == 0, result.output
    assert not lines(result, "INCOMPATIBLE")
    assert not [line for line in result.output.splitlines() if "index" in line and "missing" in line]
    assert any("studentid" in line for line in result.output.splitlines())


def _without(table, column):
    return [c for c in SEED_SCHEMA[table] if c[0] != column]


def _retyped(table, column, kind):
    return [(name, kind if name == column else k) for name, k in SEED_SCHEMA[table]]


INCOMPATIBLE = {
    "missing-column": (seed_schema(items=_without("items", "depreciatione")), ("items", "depreciatione")),
    "missing-user-column": (seed_schema(users=_without("users", "password")), ("users", "password")),
    "missing-table": (seed_schema(chats=None), ("chats", "missing")),
    "price-varchar": (seed_schema(items=_retyped("items", "price", "varchar")), ("items", "price", "VARCHAR")),
    "favorites": (
        {**{k: v for k, v in SEED_SCHEMA.items() if k != "favourites"}, "favorites": SEED_SCHEMA["favourites"]},
        ("favourites", "favorites"),
    ),
}


@pytest.mark.parametrize("case", list(INCOMPATIBLE))
def test_check_db_incompatible(scratch_cli, raw, case):
    schema, words = INCOMPATIBLE[case]
    run_sql(raw, *legacy_ddl(schema))
    result = scratch_cli("check-db")
    assert_clean_exit(result)
    assert result.exit_code != 0, result.output
    problems = lines(result, "INCOMPATIBLE")
    assert problems, result.output
    assert any(all(w.lower() in line.lower() for w in words) for line in problems), (words, result.output)
    assert "Traceback" not in result.output


def test_check_db_empty_database_names_every_table(scratch_cli):
    result = scratch_cli("check-db")
    assert_clean_exit(result)
    assert result.exit_code != 0
    problems = lines(result, "INCOMPATIBLE")
    for table in LEGACY_TABLES:
        assert any(table in line and "missing" in line for line in problems), (table, result.output)


# --------------------------------------------------------------------------------------------
# create-user


def login(client, phonenumber, password):
    return client.post("/user/login", data={"phonenumber": phonenumber, "password": password}).get_json()


def user_rows(app, phonenumber):
    with app.app_context():
        with db.engine.connect() as conn:
            return list(
                conn.execute(text("SELECT uuid, password FROM users WHERE phonenumber = :p"), {"p": phonenumber})
            )


def test_create_user_stores_sha1_of_typed_password(app, cli, client):
    result = cli("create-user", "13900000001", "秘密 pass")
    assert result.exit_code == 0, result.output
    rows = user_rows(app, "13900000001")
    assert len(rows) == 1
    stored = rows[0][1]
    assert stored not in ("秘密 pass", sha1("秘密 pass"))  # hashed, never clear

    ok = login(client, "13900000001", sha1("秘密 pass"))
    assert ok["status"] == "success", ok
    assert ok["info"]["uuid"] == rows[0][0]
    assert ok["info"]["phonenumber"] == "13900000001"
    assert "password" not in ok["info"]
    assert login(client, "13900000001", "秘密 pass") == {"status": "failure", "info": "password incorrect"}


def test_create_user_raw(app, cli, client):
    result = cli("create-user", "--raw", "13900000002", "abc123")
    assert result.exit_code == 0, result.output
    assert user_rows(app, "13900000002")[0][1] != "abc123"
    assert login(client, "13900000002", "abc123")["status"] == "success"
    assert login(client, "13900000002", sha1("abc123")) == {"status": "failure", "info": "password incorrect"}


def test_create_user_duplicate_phone(app, cli, client):
    assert cli("create-user", "13900000003", "first").exit_code == 0
    again = cli("create-user", "13900000003", "second")
    assert_clean_exit(again)
    assert again.exit_code != 0
    assert "13900000003" in again.output and "already" in again.output.lower(), again.output
    assert "Traceback" not in again.output
    assert len(user_rows(app, "13900000003")) == 1
    assert login(client, "13900000003", sha1("first"))["status"] == "success"
    assert login(client, "13900000003", sha1("second"))["status"] == "failure"


@pytest.mark.parametrize("phone", ["abc", "138-0000-0000", "1" * 21, "", " 13900000004"])
def test_create_user_bad_phone(app, cli, phone):
    result = cli("create-user", phone, "pw")
    assert_clean_exit(result)
    assert result.exit_code != 0
    assert "phone" in result.output.lower(), result.output
    assert "Traceback" not in result.output
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM users")).scalar() == 0


def test_create_user_refuses_empty_and_blank_passwords(app, cli):
    for password in ("", "   ", "\t"):
        result = cli("create-user", "13900000005", password)
        assert_clean_exit(result)
        assert result.exit_code == 1, result.output
        assert "password must not be empty" in result.output, result.output
    assert user_rows(app, "13900000005") == []


@pytest.mark.parametrize("phone", ["1", "12345", "+1", "2390000000", "139000000000"])
def test_create_user_refuses_numbers_no_phone_has(app, cli, phone):
    result = cli("create-user", phone, "pw")
    assert result.exit_code == 1, result.output
    assert f"phone number '{phone}' is not valid" in result.output
    assert user_rows(app, phone) == []


def test_create_user_asks_twice_or_reads_stdin(app, runner, client):
    with app.app_context():
        asked = runner.invoke(args=["create-user", "13900000006"], input="typed pw\ntyped pw\n")
        assert asked.exit_code == 0, asked.output
        assert "typed pw" not in asked.output  # hidden input
        piped = runner.invoke(args=["create-user", "--password-stdin", "+8613900000007"], input="piped\n")
        assert piped.exit_code == 0, piped.output
        mismatch = runner.invoke(args=["create-user", "13900000008"], input="a\nb\na\na\n")
        assert mismatch.exit_code == 0 and "do not match" in mismatch.output.lower()
    assert login(client, "13900000006", sha1("typed pw"))["status"] == "success"
    assert login(client, "+8613900000007", sha1("piped"))["status"] == "success"
    assert login(client, "13900000008", sha1("a"))["status"] == "success"


def test_seed_demo_on_a_non_empty_database_prints_numbers_that_exist(app, cli, client):
    assert cli("create-user", "13000000001", "mine").exit_code == 0
    assert cli("create-user", "13000000003", "mine").exit_code == 0
    result = cli("seed-demo", "--users", "3", "--items", "2", "--messages", "0")
    assert result.exit_code == 0, result.output
    line = lines(result, "demo accounts log in with")[0]
    import re

    printed = re.findall(r"1300\d{7}", line)
    assert printed, line
    with app.app_context():
        numbers = {p for (p,) in db.session.execute(text("SELECT phonenumber FROM users"))}
    for phone in printed:
        assert phone in numbers, (phone, line)
        if phone not in ("13000000001", "13000000003"):
            assert login(client, phone, sha1("demo123"))["status"] == "success", phone


# --------------------------------------------------------------------------------------------
# The old database: duplicate phone numbers (issue #14 item 1)


def add_duplicate(engine):
    """A second account with the first one's number, with an item and a chat, as old data has."""
    run_sql(
        engine,
        "INSERT INTO `users` VALUES (2, '{pw}', '重复号', '13800000000', '', 0, '', "
        "'image/avatar/default.jpg', 0, 10, '')".format(pw=sha1("2222")),
        "INSERT INTO `items` VALUES (2, 2, '旧书', 5, 3, 'image/item/default.jpg', 9, '', 1, NULL)",
        "INSERT INTO `items` VALUES (3, 2, '旧凳', 5, 3, 'image/item/default.jpg', 9, '', 1, NULL)",
        "INSERT INTO `favourites` VALUES (2, 1, 2)",
        "INSERT INTO `chats` VALUES (2, 2, 1, '1', '在吗', 0, '2019-09-05 10:00:00', '2019-09-05 10:00:00')",
    )


def test_check_db_lists_every_duplicate_phone_and_what_to_do(scratch_cli, old_database):
    add_duplicate(old_database)
    result = scratch_cli("check-db")
    assert_clean_exit(result)
    assert result.exit_code == 1, result.output
    out = result.output
    assert "2 accounts share 1 phone number" in out
    row1 = [line for line in out.splitlines() if "uuid 1 " in line][0]
    row2 = [line for line in out.splitlines() if "uuid 2 " in line][0]
    assert "13800000000" in row1 and "'旧用户'" in row1 and "items owned 1" in row1
    assert "13800000000" in row2 and "'重复号'" in row2 and "items owned 2" in row2
    assert "first activity 2019-09-04" in row1 and "first activity 2019-09-05" in row2
    assert "renumber-user" in out and "merge-users" in out
    assert "init-db adds it" not in out or "ux_users_phonenumber is missing" not in out
    assert "compatible with the legacy schema" not in out


def test_init_db_fails_when_the_unique_phone_index_cannot_be_added(scratch_cli, old_database):
    add_duplicate(old_database)
    result = scratch_cli("init-db")
    assert_clean_exit(result)
    assert result.exit_code == 2, result.output
    assert "ERROR: could not add required index ux_users_phonenumber" in result.output
    assert "renumber-user" in result.output
    assert ("uuid",) in indexes(old_database, "items")  # the rest was still done
    again = scratch_cli("init-db")
    assert again.exit_code == 2, again.output


def test_renumber_user_lets_the_duplicate_log_in(scratch_app, scratch_cli, old_database):
    add_duplicate(old_database)
    bad = scratch_cli("renumber-user", "2", "13800000000")
    assert bad.exit_code == 1 and "already registered" in bad.output
    assert scratch_cli("renumber-user", "2", "12").exit_code == 1
    assert scratch_cli("renumber-user", "9", "13800000009").exit_code == 1
    result = scratch_cli("renumber-user", "2", "13800000009")
    assert result.exit_code == 0, result.output
    assert "13800000009" in result.output and "13800000000" in result.output
    init = scratch_cli("init-db")
    assert init.exit_code == 0, init.output
    assert ("phonenumber",) in indexes(old_database, "users")
    check = scratch_cli("check-db")
    assert check.exit_code == 0, check.output
    client = scratch_app.test_client()
    assert login(client, "13800000009", sha1("2222"))["status"] == "success"
    assert login(client, "13800000000", OLD_PASSWORD)["status"] == "success"


def test_merge_users_moves_everything_to_the_kept_account(scratch_app, scratch_cli, old_database):
    add_duplicate(old_database)
    refused = scratch_cli("merge-users", "2", "2", "--yes")
    assert refused.exit_code == 1
    result = scratch_cli("merge-users", "2", "1", "--yes")
    assert result.exit_code == 0, result.output
    assert "2 items, 0 favourites, 1 chat messages" in result.output  # the one favourite was a duplicate
    with old_database.connect() as conn:
        assert [r[0] for r in conn.execute(text("SELECT uuid FROM users"))] == [1]
        assert {r[0] for r in conn.execute(text("SELECT uuid FROM items"))} == {1}
        assert conn.execute(text("SELECT COUNT(*) FROM favourites")).scalar() == 1  # the duplicate dropped
        assert {tuple(r) for r in conn.execute(text("SELECT `from`, `to` FROM chats"))} == {(1, 1)}
    init = scratch_cli("init-db")
    assert init.exit_code == 0, init.output


def test_find_account_refuses_an_ambiguous_number(scratch_cli, old_database):
    add_duplicate(old_database)
    assert scratch_cli("init-db").exit_code == 2  # the new tables are there, the unique index is not
    result = scratch_cli("unlock-user", "13800000000")
    assert result.exit_code == 1
    assert "held by accounts 1, 2" in result.output and "uuid:N" in result.output
    ok = scratch_cli("unlock-user", "uuid:2")
    assert ok.exit_code == 0, ok.output


# --------------------------------------------------------------------------------------------
# Character sets (issue #14 item 2)


def test_check_db_reports_charsets_and_convert_utf8mb4(scratch_cli, old_database):
    check = scratch_cli("check-db")
    if not MYSQL:
        assert not [line for line in check.output.splitlines() if "utf8" in line]
        result = scratch_cli("convert-utf8mb4", "--yes")
        assert result.exit_code == 1 and "SQLite" in result.output
        return
    notes = check.output
    for table in LEGACY_TABLES:
        assert f"note: table {table} is utf8mb3" in notes or f"note: table {table} is utf8 " in notes, notes
    assert "note: users.username is utf8" in notes
    assert "convert-utf8mb4" in notes
    printed = scratch_cli("convert-utf8mb4", "--print-sql")
    assert printed.exit_code == 0
    assert "ALTER TABLE `users` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;" in printed.output
    before = snapshot(old_database)
    done = scratch_cli("convert-utf8mb4", "--yes")
    assert done.exit_code == 0, done.output
    assert f"converted {len(LEGACY_TABLES)} table(s)" in done.output
    after = snapshot(old_database)
    assert {t: v["rows"] for t, v in after.items()} == {t: v["rows"] for t, v in before.items()}
    again = scratch_cli("check-db")
    assert "is utf8mb3" not in again.output and "note: table users is utf8mb4" in again.output
    with old_database.begin() as conn:
        conn.execute(text("UPDATE users SET info = '出闲置😀' WHERE uuid = 1"))
        assert conn.execute(text("SELECT info FROM users WHERE uuid = 1")).scalar() == "出闲置😀"
    assert "already" in scratch_cli("convert-utf8mb4", "--yes").output


# --------------------------------------------------------------------------------------------
# Admin commands (issue #14 item 8)


def me_ok(client, token):
    """Whether ``token`` still works (a refused one answers 403 Forbidden)."""
    reply = client.post("/user/me", data={"token": token})
    return reply.status_code == 200 and reply.get_json()["status"] == "success"


def wrong_logins(client, phone, n):
    for _ in range(n):
        client.post("/user/login", data={"phonenumber": phone, "password": sha1("wrong")})


def test_unlock_user_ends_a_lockout(app, cli, client):
    assert cli("create-user", "13900000011", "right").exit_code == 0
    wrong_logins(client, "13900000011", 10)
    assert login(client, "13900000011", sha1("right"))["status"] == "failure"  # locked
    failures = cli("recent-failures")
    assert failures.exit_code == 0, failures.output
    assert "uuid:1" in failures.output and "10 failures" in failures.output and "LOCKED" in failures.output
    result = cli("unlock-user", "13900000011")
    assert result.exit_code == 0, result.output
    assert "10 failed login(s) forgotten" in result.output
    assert login(client, "13900000011", sha1("right"))["status"] == "success"
    assert "LOCKED" not in cli("recent-failures").output
    assert "no failed logins" in cli("recent-failures", "--hours", "1").output or True


def test_recent_failures_window(app, cli, client, clock):
    assert cli("create-user", "13900000012", "right").exit_code == 0
    wrong_logins(client, "13900000012", 2)
    clock.advance(3 * 3600)
    assert "no failed logins in the last 1 hour(s)" in cli("recent-failures", "--hours", "1").output
    assert "2 failures" in cli("recent-failures", "--hours", "24").output
    assert cli("recent-failures", "--hours", "0").exit_code == 2


def test_reset_password_prompts_and_ends_tokens(app, cli, runner, client):
    assert cli("create-user", "13900000013", "old").exit_code == 0
    token = login(client, "13900000013", sha1("old"))["token"]
    with app.app_context():
        result = runner.invoke(args=["reset-password", "13900000013"], input="新的 pw\n新的 pw\n")
    assert result.exit_code == 0, result.output
    assert "新的 pw" not in result.output
    assert not me_ok(client, token)
    assert login(client, "13900000013", sha1("old"))["status"] == "failure"
    assert login(client, "13900000013", sha1("新的 pw"))["status"] == "success"
    with app.app_context():
        piped = runner.invoke(args=["reset-password", "--password-stdin", "1"], input="third\n")
        blank = runner.invoke(args=["reset-password", "--password-stdin", "1"], input="  \n")
    assert piped.exit_code == 0, piped.output
    assert blank.exit_code == 1 and "empty" in blank.output
    assert login(client, "13900000013", sha1("third"))["status"] == "success"
    assert cli("reset-password", "13999999999").exit_code == 1


def test_disable_and_enable_user(app, cli, client):
    assert cli("create-user", "13900000014", "pw").exit_code == 0
    token = login(client, "13900000014", sha1("pw"))["token"]
    assert me_ok(client, token)
    result = cli("disable-user", "13900000014", "--reason", "spam listings")
    assert result.exit_code == 0, result.output
    assert "disabled" in result.output
    assert not me_ok(client, token)  # at once
    assert login(client, "13900000014", sha1("pw"))["status"] == "failure"
    assert "already disabled" in cli("disable-user", "1").output
    enabled = cli("enable-user", "13900000014")
    assert enabled.exit_code == 0 and "enabled" in enabled.output
    assert login(client, "13900000014", sha1("pw"))["status"] == "success"
    assert not me_ok(client, token)  # old token stays dead
    assert "was not disabled" in cli("enable-user", "1").output
    missing = cli("disable-user", "nobody")
    assert missing.exit_code == 1 and "no account" in missing.output and "Traceback" not in missing.output


@pytest.mark.parametrize("command", [["check-db"], ["init-db"], ["recent-failures"], ["unlock-user", "1"]])
def test_unreachable_database_is_one_line(config, command):
    config["FOOF_DATABASE_URL"] = "mysql+pymysql://foof:secret-pw@127.0.0.1:1/foof?charset=utf8mb4"
    app = create_app(config)
    result = context_invoker(app, app.test_cli_runner())(*command)
    assert_clean_exit(result)
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: database mysql+pymysql://foof:***@127.0.0.1:1/foof"), result.output
    assert "Traceback" not in result.output and "secret-pw" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_missing_tables_are_one_line(scratch_cli):
    result = scratch_cli("recent-failures")
    assert result.exit_code == 1
    assert "rate_events" in result.output and "init-db" in result.output
