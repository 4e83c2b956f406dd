"""New tables for the secondhand face (docs/architecture.md §1); they only ever add to the schema.

A secondhand user is a ``users`` row plus a ``user_profiles`` row; a product is an item
(``sold > 0``) plus an ``item_details`` row; an order is an ``orders`` row, and
``items.sold``/``items.to`` are the legacy projection of an item's latest order.
"""

from datetime import datetime

from sqlalchemy import DateTime, Double, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from foof.extensions import db
from foof.models.legacy import MYSQL_ARGS


class UserProfile(db.Model):
    __tablename__ = "user_profiles"
    __table_args__ = (Index("ux_user_profiles_login", "login", unique=True), MYSQL_ARGS)

    uuid: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    login: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reset_question: Mapped[str | None] = mapped_column(String(255), nullable=True)
    reset_answer: Mapped[str | None] = mapped_column(String(255), nullable=True)
    email: Mapped[str | None] = mapped_column(String(255), nullable=True)
    role: Mapped[str] = mapped_column(String(8), nullable=False, default="3")
    identified: Mapped[str] = mapped_column(String(8), nullable=False, default="0")
    student_card: Mapped[str | None] = mapped_column(String(255), nullable=True)
    alias: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class ItemDetail(db.Model):
    __tablename__ = "item_details"
    __table_args__ = (MYSQL_ARGS,)

    itemid: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    location: Mapped[str | None] = mapped_column(String(255), nullable=True)
    tags: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Order(db.Model):
    """States: ``"0"`` open (item reserved), ``"1"`` cancelled, ``"2"`` completed."""

    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_item", "itemid", "state"),
        Index("ix_orders_buyer", "buyer"),
        Index("ix_orders_seller", "seller"),
        MYSQL_ARGS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    itemid: Mapped[int] = mapped_column(Integer, nullable=False)
    seller: Mapped[int] = mapped_column(Integer, nullable=False)
    buyer: Mapped[int] = mapped_column(Integer, nullable=False)
    price: Mapped[float] = mapped_column(Double, nullable=False)
    transaction_mode: Mapped[str] = mapped_column(String(8), nullable=False, default="0")
    pay_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    express_number: Mapped[str | None] = mapped_column(String(64), nullable=True)
    state: Mapped[str] = mapped_column(String(8), nullable=False, default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class WebSession(db.Model):
    """A secondhand login session. The cookie carries the id; only its SHA-256 is stored, and
    logging out deletes the row, so a copied cookie dies with the session."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_uuid", "uuid"), MYSQL_ARGS)

    sid_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    uuid: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
