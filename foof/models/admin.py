"""New tables of the staff console (issue #15): student-card reviews, reports, held listings,
staff sessions and the audit log. They only add to the schema; no legacy column changes."""

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from foof.extensions import db
from foof.models.legacy import MYSQL_ARGS


class CardReview(db.Model):
    """The review of a user's latest student card (one row per user: a new upload resets it to
    pending). States: ``"pending"``, ``"approved"``, ``"rejected"`` (with ``reason``)."""

    __tablename__ = "card_reviews"
    __table_args__ = (Index("ix_card_reviews_state", "state", "uploaded_at"), MYSQL_ARGS)

    uuid: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    card: Mapped[str] = mapped_column(String(255), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    reason: Mapped[str | None] = mapped_column(String(255), nullable=True)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    reviewer: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Report(db.Model):
    """A report of a product or a user. ``open_key`` is ``"<reporter>:<kind>:<target>"`` while
    the report is open and NULL once resolved: a unique index on it lets the database refuse
    a second open report by the same reporter on the same target, also when both race."""

    __tablename__ = "reports"
    __table_args__ = (
        Index("ux_reports_open_key", "open_key", unique=True),
        Index("ix_reports_state", "state", "created_at"),
        MYSQL_ARGS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reporter: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    target: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[str] = mapped_column(String(32), nullable=False)
    note: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="open")
    open_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    resolver: Mapped[int | None] = mapped_column(Integer, nullable=True)
    resolution: Mapped[str | None] = mapped_column(String(16), nullable=True)


class HeldListing(db.Model):
    """A listing hidden because its seller is disabled: ``items.sold`` is the deleted state
    (which every read excludes) and ``previous`` the state to restore when the seller is
    enabled again."""

    __tablename__ = "held_listings"
    __table_args__ = (Index("ix_held_listings_uuid", "uuid"), MYSQL_ARGS)

    itemid: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    uuid: Mapped[int] = mapped_column(Integer, nullable=False)
    previous: Mapped[int] = mapped_column(Integer, nullable=False)
    held_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class StaffSession(db.Model):
    """A console login: the cookie holds a random id, only its SHA-256 is stored, so logging
    out (or disabling the account, or taking its role) ends it server-side."""

    __tablename__ = "staff_sessions"
    __table_args__ = (Index("ix_staff_sessions_uuid", "uuid"), MYSQL_ARGS)

    sid_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    uuid: Mapped[int] = mapped_column(Integer, nullable=False)
    csrf_secret: Mapped[str] = mapped_column(String(64), nullable=False)
    #: When the checked password hash was read (ms): a password change after it ends the session.
    issued_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class AuditEntry(db.Model):
    """One staff action: who (uuid, or 0 for the command line), what, on which target, why, when.
    Written in the action's own transaction; nothing updates or deletes these rows."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"), MYSQL_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    actor: Mapped[int] = mapped_column(Integer, nullable=False)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    target_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    target: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[str] = mapped_column(String(255), nullable=False, default="")


class ListingDate(db.Model):
    """When a listing was added (the legacy ``items`` table has no time column): written by
    :func:`foof.domain.listings.add` for both faces, read by the console's per-day chart.
    Listings older than this table have no row and are not counted per day."""

    __tablename__ = "listing_dates"
    __table_args__ = (Index("ix_listing_dates_at", "created_at"), MYSQL_ARGS)

    itemid: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
