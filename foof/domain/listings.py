"""Listings: items for sale (``sold > 0``) and "want to buy" posts (``sold < 0``).

States (CONTRACT 1.4): 1 on sale, 3 reserved for ``to``, 2 sold to ``to``, 4 deleted; want
posts use the negatives. The old server wrote 3 for "deleted" too; deletion now writes 4.
"""
from sqlalchemy import select

from foof.domain.errors import Invalid
from foof.extensions import db
from foof.models import Item

ON_SALE, SOLD, RESERVED, DELETED = 1, 2, 3, 4
DELETED_STATES = (DELETED, -DELETED)


def parse_id(value):
    """An id from the wire (int or digit string) as an int, or :class:`Invalid`."""
    if isinstance(value, bool):
        raise Invalid()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 12:
        value = int(value)
    if not isinstance(value, int) or not -2**31 <= value < 2**31:
        raise Invalid()
    return value


def published_by(uuid):
    """Every live item of this user (deleted excluded), by ``itemid``."""
    uuid = parse_id(uuid)
    stmt = select(Item).where(Item.uuid == uuid, Item.sold.not_in(DELETED_STATES)).order_by(Item.itemid)
    return db.session.execute(stmt).scalars().all()


def reserved_for(uuid):
    """Items whose ``to`` is this user (reserved or sold to them), deleted excluded."""
    stmt = select(Item).where(Item.to == uuid, Item.sold.not_in(DELETED_STATES)).order_by(Item.itemid)
    return db.session.execute(stmt).scalars().all()
