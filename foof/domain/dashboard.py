"""The console's dashboard figures (issue #15): counts, and listings and trades per day.

"Verified students" counts ``users.verified = 1`` (the one fact, see :mod:`foof.domain.cards`);
"on sale" counts items and want posts in state 1/-1 (what search holds); a trade is an order
completed (state ``"2"``, on either face) on the day of its last update; a new listing is a
``listing_dates`` row (written by every add since the table exists).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from foof.domain import cards, clock, reports
from foof.domain.listings import ON_SALE, ORDER_COMPLETED
from foof.extensions import db
from foof.models import AccountBlock, Item, ListingDate, Order, User


def counts() -> dict[str, int]:
    def one(stmt: object) -> int:
        return int(db.session.execute(stmt).scalar_one())  # type: ignore[call-overload]

    return {
        "users": one(select(func.count()).select_from(User)),
        "verified": one(select(func.count()).select_from(User).where(User.verified == 1)),
        "on_sale": one(select(func.count()).select_from(Item).where(Item.sold.in_((ON_SALE, -ON_SALE)))),
        "disabled": one(select(func.count()).select_from(AccountBlock)),
        "open_reports": reports.open_count(),
        "pending_cards": cards.pending_count(),
    }


def _per_day(column: object, since: datetime, *where: object) -> dict[date, int]:
    rows = db.session.execute(select(column).where(column >= since, *where))  # type: ignore[operator, call-overload]
    found: dict[date, int] = {}
    for (moment,) in rows:
        found[moment.date()] = found.get(moment.date(), 0) + 1
    return found


def per_day(days: int = 30) -> list[tuple[date, int, int]]:
    """``(day, new listings, trades)`` for the last ``days`` days (UTC), oldest first."""
    today = clock.now().date()
    first = today - timedelta(days=days - 1)
    since = datetime(first.year, first.month, first.day)
    listings = _per_day(ListingDate.created_at, since)
    trades = _per_day(Order.updated_at, since, Order.state == ORDER_COMPLETED)
    return [(day, listings.get(day, 0), trades.get(day, 0)) for day in (first + timedelta(days=n) for n in range(days))]
