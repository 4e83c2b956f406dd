"""The legacy objects are marshmallow schemas (foof/legacy/schemas.py), rendered byte for byte
as the recorded exchanges expect.

For each recording below, its setup rows (``user:``, ``item:``, ``fav:``, ``chat:`` lines, as
``tests/recorded/README.md`` and ``tests/test_recorded_items.py`` define them) are inserted,
read back both as ORM objects and as Core rows (the two kinds the domain hands the routes),
turned into the reply through the schema — ``Schema().dump()`` and the precompiled dumper the
routes call — and rendered by the one renderer; the bytes must be the recording's first
``body:`` with the replay's normalisations (``normalise_expected``). The schemas' field order
is the table's column order, and the dumper agrees with ``dump()`` on awkward values too.
"""

import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from foof.domain import tokens
from foof.domain.reads import Record
from foof.extensions import db
from foof.legacy import render, schemas
from foof.models import Chat, Favourite, Item, User
from tests.test_recorded_user import normalise_actual, normalise_expected

RECORDED = Path(__file__).parent / "recorded"

MODELS = {"public_user": User, "own_user": User, "item": Item, "favourite": Favourite, "message": Chat}
#: Columns a schema leaves out on purpose (docs/legacy-wire.md §4).
OMITTED = {"public_user": {"password", "phonenumber", "idcard", "studentid", "address"}, "own_user": {"password"}}


def _recording(name):
    """``(setup, body)``: the setup lines as ``(key, value)`` and the first expected body."""
    setup, body = [], None
    for line in (RECORDED / name).read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(": ")
        if key == "body":
            body = value
            break
        if key in ("user", "item", "fav", "chat"):
            setup.append((key, value))
    assert body is not None, name
    return setup, normalise_expected(body)


def _insert(app, make_user, setup):
    for key, value in setup:
        if key == "user":
            _, _, columns = value.partition(" ")
            columns = json.loads(columns)
            make_user(columns.pop("phonenumber"), columns.pop("password"), **columns)
            continue
        columns = json.loads(value)
        with app.app_context():
            if key == "item":
                db.session.add(Item(**columns))
            elif key == "fav":
                db.session.add(Favourite(**columns))
            else:
                columns["sender"] = columns.pop("from")
                for stamp in ("createdAt", "updatedAt"):
                    columns[stamp] = datetime.fromisoformat(columns[stamp])
                db.session.add(Chat(**columns))
            db.session.commit()


def _rows(model, *where, order):
    """The rows as ORM objects, as Core rows and as ``reads.Record`` (the hot reads' kind)."""
    orm = db.session.execute(select(model).where(*where).order_by(order)).scalars().all()
    core = db.session.execute(select(model.__table__).where(*where).order_by(order)).all()
    return [orm, core, [Record(dict(r._mapping)) for r in core]]


# recording -> (the rows it renders, the reply built from a dump function ``d(row, **extra)``)
CASES = {
    "items/01_query_success.txt": (
        lambda: _rows(Item, Item.itemid == 1, order=Item.itemid),
        "item",
        lambda d, rows: d(rows[0], status="success"),
    ),
    "user/05_published.txt": (
        lambda: _rows(Item, Item.uuid == 1, order=Item.itemid),
        "item",
        lambda d, rows: [d(r) for r in rows],
    ),
    "user/01_public_success.txt": (
        lambda: _rows(User, User.uuid == 1, order=User.uuid),
        "public_user",
        lambda d, rows: d(rows[0], status="success"),
    ),
    "user/03_me_success.txt": (
        lambda: _rows(User, User.uuid == 1, order=User.uuid),
        "own_user",
        lambda d, rows: d(rows[0], status="success"),
    ),
    "user/07_login_success.txt": (
        lambda: _rows(User, User.uuid == 1, order=User.uuid),
        "own_user",
        lambda d, rows: {"status": "success", "info": d(rows[0]), "token": tokens.login_token(1)},
    ),
    "fav/01_query.txt": (
        lambda: _rows(Favourite, Favourite.uuid == 1, order=Favourite.id),
        "favourite",
        lambda d, rows: {"status": "success", "res": [d(r) for r in rows]},
    ),
    "chat/03_fetchnew.txt": (
        lambda: _rows(Chat, Chat.to == 1, Chat.fetched.is_(False), order=Chat.id),
        "message",
        lambda d, rows: {"status": "success", "data": [d(r) for r in rows]},
    ),
    "chat/04_fetchall.txt": (
        lambda: _rows(Chat, Chat.to == 1, order=Chat.id),
        "message",
        lambda d, rows: {"status": "success", "data": [d(r) for r in rows]},
    ),
}


def _via_marshmallow(schema):
    def dump(row, **extra):
        out = schema.dump(row)
        out.update(extra)
        return out

    return dump


@pytest.mark.parametrize("name", sorted(CASES))
def test_schema_renders_the_recorded_bytes(name, app, make_user):
    setup, expected = _recording(name)
    _insert(app, make_user, setup)
    rows_of, kind, build = CASES[name]
    schema = schemas.SCHEMAS[kind]
    function = getattr(schemas, kind)
    with app.app_context():
        for rows in rows_of():
            assert rows
            for dump in (_via_marshmallow(schema), function):
                assert normalise_actual(render.dumps(build(dump, rows))) == expected, (name, type(rows[0]))


def test_every_legacy_object_has_a_case():
    assert {kind for _, kind, _ in CASES.values()} == set(schemas.SCHEMAS)


@pytest.mark.parametrize("kind", sorted(schemas.SCHEMAS))
def test_field_order_is_the_table_column_order(kind):
    columns = [c.name for c in MODELS[kind].__table__.columns if c.name not in OMITTED.get(kind, ())]
    schema = schemas.SCHEMAS[kind]
    keys = [field.data_key or name for name, field in schema.dump_fields.items()]
    assert keys == columns
    assert [key for key, *_ in schemas.DUMPERS[kind].fields] == columns


@pytest.mark.parametrize("kind", sorted(schemas.SCHEMAS))
def test_each_route_function_is_compiled_from_its_schema(kind):
    dumper = schemas.DUMPERS[kind]
    assert dumper.schema is schemas.SCHEMAS[kind]
    fields = dumper.schema.dump_fields
    assert [attribute for _, _, attribute, _ in dumper.fields] == [f.attribute or n for n, f in fields.items()]
    assert [convert for *_, convert in dumper.fields] == [getattr(f, "convert", None) for f in fields.values()]


NOW = datetime(2019, 9, 4, 14, 29, 5, 123456)
AWKWARD = {
    # an old database: INT studentid, 0/1 flags, VARCHAR chats.type, NULLs, floats
    "public_user": {
        "uuid": 7,
        "password": "x",
        "username": "名字",
        "phonenumber": "1",
        "idcard": "",
        "studentid": 0,
        "address": "",
        "avatarurl": "image/avatar/default.jpg",
        "verified": 1,
        "score": -3,
        "info": None,
    },
    "item": {
        "itemid": 3,
        "uuid": 7,
        "title": "t",
        "type": 2,
        "price": 0.1 + 0.2,
        "imgurl": "",
        "depreciatione": 99,
        "note": "",
        "sold": -1,
        "to": None,
    },
    "favourite": {"id": 1, "itemid": 2, "uuid": 3},
    "message": {
        "id": 9,
        "from": 7,
        "to": 8,
        "type": "-12",
        "data": "hi",
        "fetched": 1,
        "createdAt": NOW,
        "updatedAt": NOW,
    },
}
AWKWARD["own_user"] = AWKWARD["public_user"]


@pytest.mark.parametrize("kind", sorted(schemas.SCHEMAS))
def test_the_compiled_dumper_agrees_with_dump(kind):
    columns = AWKWARD[kind]
    model = MODELS[kind]
    attributes = {model.__mapper__.get_property_by_column(c).key: columns[c.name] for c in model.__table__.columns}
    schema, function = schemas.SCHEMAS[kind], getattr(schemas, kind)
    for row in (Record(dict(columns)), model(**attributes)):
        dumped = schema.dump(row)
        assert function(row) == dumped
        assert list(function(row)) == list(dumped)
        assert render.dumps(function(row)) == render.dumps(dumped)
    if kind == "own_user":
        assert dumped["studentid"] == "0"
    if kind == "message":
        assert dumped["type"] == -12 and dumped["fetched"] is True
