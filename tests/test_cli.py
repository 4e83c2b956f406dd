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
    name = f"foof_scratch_{secrets.token_hex(6)}"
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
