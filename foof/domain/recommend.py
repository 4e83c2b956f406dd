"""Recommendations: items on sale and want-to-buy posts that the person might want.

The app fills both home tabs from this one list: ids whose item is on sale (``sold = 1``) go
to the goods tab, want posts (``sold = -1``) to the 求购 tab (issue #12 item 1). So each kind
is chosen on its own, up to :data:`PER_KIND` ids: first the newest of that kind in the
categories the person favourited or posted in (either kind), then the newest of that kind in
any category. Neither tab can crowd out the other, and a tab is empty only when nothing of
its kind is on sale. The two lists are interleaved (sale, want, sale, want, ... then the rest
of the longer), so any prefix of the answer holds both kinds too. With only one kind on sale
the answer is exactly the old one (up to 10 newest, favoured categories first).

Their own items and items they already favourited are left out. An unknown person gets the
newest of each kind. Every id answers a row at ``GET /item/<id>`` (only 1 and -1 are chosen).
"""

from __future__ import annotations

from itertools import zip_longest
from typing import Any

from sqlalchemy import Select, select

from foof.domain.listings import ON_SALE
from foof.extensions import db
from foof.models import Favourite, Item

PER_KIND = 10
KINDS = (ON_SALE, -ON_SALE)  # goods tab, want tab


def _liked_types(uuid: int, favourited: Select[Any]) -> set[int]:
    liked = set(db.session.execute(select(Item.type).where(Item.itemid.in_(favourited)).distinct()).scalars())
    liked |= set(db.session.execute(select(Item.type).where(Item.uuid == uuid).distinct()).scalars())
    return liked


def _of_kind(kind: int, uuid: int, favourited: Select[Any], liked_types: set[int]) -> list[int]:
    base = (
        select(Item.itemid)
        .where(Item.sold == kind, Item.uuid != uuid, Item.itemid.not_in(favourited))
        .order_by(Item.itemid.desc())
    )
    picked: list[int] = []
    if liked_types:
        picked = list(db.session.execute(base.where(Item.type.in_(liked_types)).limit(PER_KIND)).scalars())
    if len(picked) < PER_KIND:
        rest = base.where(Item.itemid.not_in(picked)) if picked else base
        picked += list(db.session.execute(rest.limit(PER_KIND - len(picked))).scalars())
    return picked


def for_user(uuid: int) -> list[int]:
    favourited = select(Favourite.itemid).where(Favourite.uuid == uuid)
    liked_types = _liked_types(uuid, favourited)
    goods, wants = (_of_kind(kind, uuid, favourited, liked_types) for kind in KINDS)
    return [itemid for pair in zip_longest(goods, wants) for itemid in pair if itemid is not None]
