"""SQLAlchemy models.

The four legacy tables (``users``, ``items``, ``favourites``, ``chats``) are declared exactly
as the old server deployed them (docs/legacy-wire.md §4): same names, column order and types, so the
service can open an existing legacy database. Everything new lives in new tables.
"""

from foof.models.admin import AuditEntry, CardReview, HeldListing, ListingDate, Report, StaffSession  # noqa: F401
from foof.models.legacy import Chat, Favourite, Item, User  # noqa: F401
from foof.models.secondhand import ItemDetail, Order, UserProfile, WebSession  # noqa: F401
from foof.models.security import AccountBlock, Credential, RateEvent, RateLock, VerifyCode  # noqa: F401

#: The legacy schema as docs/legacy-wire.md §4 states it, used by ``check-db``.
LEGACY_TABLES = ("users", "items", "favourites", "chats")
