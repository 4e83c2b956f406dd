"""Recommendations: up to 10 items on sale that the person might want.

Items in the categories the person favourited or posted in come first, newest first; the
rest of the list is filled with the newest items on sale. Their own items and items they
already favourited are left out. An unknown person gets the newest items.
"""
from sqlalchemy import select

from foof.domain.listings import ON_SALE
from foof.extensions import db
from foof.models import Favourite, Item

LIMIT = 10


def for_user(uuid):
    favourited = select(Favourite.itemid).where(Favourite.uuid == uuid)
    liked_types = set(db.session.execute(
        select(Item.type).where(Item.itemid.in_(favourited)).distinct()
    ).scalars())
    liked_types |= set(db.session.execute(select(Item.type).where(Item.uuid == uuid).distinct()).scalars())
    base = (
        select(Item.itemid)
        .where(Item.sold == ON_SALE, Item.uuid != uuid, Item.itemid.not_in(favourited))
        .order_by(Item.itemid.desc())
    )
    picked = []
    if liked_types:
        picked = list(db.session.execute(base.where(Item.type.in_(liked_types)).limit(LIMIT)).scalars())
    if len(picked) < LIMIT:
        rest = base.where(Item.itemid.not_in(picked)) if picked else base
        picked += list(db.session.execute(rest.limit(LIMIT - len(picked))).scalars())
    return picked
