"""Legacy object shapes (docs/legacy-wire.md §4) as marshmallow schemas, in table column order.

Each schema is the one definition of an object's fields, their order (declaration order, which
marshmallow 4 keeps: the table's column order, ``tests/test_legacy_schemas.py`` checks it) and
their conversions; ``Schema().dump(row)`` gives the mapping :mod:`foof.legacy.render` turns
into bytes. A row is an ORM object (read by attribute: ``Chat.sender`` is the column
``from``) or a Core row / :class:`foof.domain.reads.Record` (read through ``_mapping`` by
column name), as the domain returns them.

The routes call the module functions below (``item(row, status="success")``). GET /item and
GET /user are the hot path (foof/legacy/hot.py): there a full ``dump()`` would cost about
2.5 times the old hand-written tuples (dump + render of one item ~16 µs against ~6.5 µs), so
each function runs a :class:`Dumper` compiled once, at import, from its schema's fields
(their output keys, columns, attributes and conversions, in the schema's order). The schema stays the single source of truth: the dumper reads nothing
else, and the tests check that it agrees with ``dump()`` for every object.
"""

from marshmallow import Schema, fields


class Column(fields.Raw):
    """A column's value as the database gave it (the renderer formats it: JS numbers,
    ``Date`` strings). ``column`` is the table's column name when it is not the field's
    attribute (``Chat.sender`` is ``from``)."""

    #: A plain function of the value applied on dump, or None (the value as is). The fast
    #: dumper applies the same function, so both paths convert alike.
    convert = None

    def __init__(self, column=None, **kwargs):
        super().__init__(**kwargs)
        self.column = column

    def _serialize(self, value, attr, obj, **kwargs):
        return value if self.convert is None else type(self).convert(value)


def _text(value):
    return str(value)


def _flag(value):
    return bool(value)


def _number(value):
    # An old database may hold ``type`` as VARCHAR (the seed's schema); it renders a number.
    if isinstance(value, str) and value.isascii() and value.lstrip("-").isdigit():  # "²".isdigit() too
        return int(value)
    return value


class Text(Column):
    """Always a string: ``studentid`` is text (``"0"``) even on an old database whose column
    is INT."""

    convert = staticmethod(_text)


class Flag(Column):
    """A boolean (``fetched``: SQLite and MySQL hand back 0/1)."""

    convert = staticmethod(_flag)


class Number(Column):
    """A number, also when an old database stores it as digits in a VARCHAR (``chats.type``)."""

    convert = staticmethod(_number)


class RowSchema(Schema):
    """Reads ORM objects by attribute and Core rows by column name (see the module doc)."""

    def get_attribute(self, obj, attr, default):
        mapping = getattr(obj, "_mapping", None)
        if mapping is not None:
            field = self.fields.get(attr)
            column = field.column if isinstance(field, Column) and field.column else attr
            return mapping.get(column, default)
        return getattr(obj, attr, default)


class PublicUserSchema(RowSchema):
    """``GET /user/<uuid>``: what anyone may see of a user."""

    uuid = Column()
    username = Column()
    avatarurl = Column()
    verified = Column()
    score = Column()
    info = Column()


class OwnUserSchema(RowSchema):
    """``/user/me``, ``/user/login``: every column but ``password``."""

    uuid = Column()
    username = Column()
    phonenumber = Column()
    idcard = Column()
    studentid = Text()
    address = Column()
    avatarurl = Column()
    verified = Column()
    score = Column()
    info = Column()


class ItemSchema(RowSchema):
    """``GET /item/<id>``, ``/user/published``, ``/user/finished``: every column."""

    itemid = Column()
    uuid = Column()
    title = Column()
    type = Column()
    price = Column()
    imgurl = Column()
    depreciatione = Column()
    note = Column()
    sold = Column()
    to = Column()


class FavouriteSchema(RowSchema):
    """``/fav/query``: every column."""

    id = Column()
    itemid = Column()
    uuid = Column()


class MessageSchema(RowSchema):
    """``/user/chat/fetchnew``, ``/user/chat/fetchall``: every column (``from`` is
    ``Chat.sender``)."""

    id = Column()
    sender = Column(column="from", data_key="from")
    to = Column()
    type = Number()
    data = Column()
    fetched = Flag()
    createdAt = Column()
    updatedAt = Column()


class Dumper:
    """``schema.dump(row)`` precompiled: the schema's fields, in its order, as
    ``(key, column, attribute, convert)`` tuples read once at import."""

    def __init__(self, schema):
        self.schema = schema
        self.fields = tuple(
            (
                field.data_key or name,
                getattr(field, "column", None) or field.attribute or name,
                field.attribute or name,
                getattr(field, "convert", None),
            )
            for name, field in schema.dump_fields.items()
        )
        if any(not isinstance(field, Column) for field in schema.dump_fields.values()):
            raise TypeError("a legacy schema field must be a Column")
        self.by_column = tuple((key, column) for key, column, _, _ in self.fields)
        self.by_attribute = tuple((key, attribute) for key, _, attribute, _ in self.fields)
        self.conversions = tuple((key, convert) for key, _, _, convert in self.fields if convert is not None)

    def __call__(self, row, extra=None):
        """The mapping ``schema.dump(row)`` gives, then the ``extra`` keys (``status``)."""
        mapping = getattr(row, "_mapping", None)
        if mapping is not None:
            out = {key: mapping[column] for key, column in self.by_column}
        else:
            out = {key: getattr(row, attribute) for key, attribute in self.by_attribute}
        for key, convert in self.conversions:
            out[key] = convert(out[key])
        if extra:
            out.update(extra)
        return out


PUBLIC_USER = PublicUserSchema()
OWN_USER = OwnUserSchema()
ITEM = ItemSchema()
FAVOURITE = FavouriteSchema()
MESSAGE = MessageSchema()

_public_user = Dumper(PUBLIC_USER)
_own_user = Dumper(OWN_USER)
_item = Dumper(ITEM)
_favourite = Dumper(FAVOURITE)
_message = Dumper(MESSAGE)

#: Every legacy schema with its model (the tests check field order against the table).
SCHEMAS = {"public_user": PUBLIC_USER, "own_user": OWN_USER, "item": ITEM, "favourite": FAVOURITE, "message": MESSAGE}
DUMPERS = {
    "public_user": _public_user,
    "own_user": _own_user,
    "item": _item,
    "favourite": _favourite,
    "message": _message,
}


def public_user(user, **extra):
    return _public_user(user, extra)


def own_user(user, **extra):
    return _own_user(user, extra)


def item(entry, **extra):
    return _item(entry, extra)


def favourite(entry):
    return _favourite(entry)


def message(entry, **extra):
    return _message(entry, extra)
