"""The legacy tables, column for column as the old koa/Sequelize server created them.

Column order matters: the legacy JSON renders rows in this order. ``from`` and ``to`` are
SQL reserved words; SQLAlchemy quotes them, and the Python attributes are ``sender`` and
``to``. New installs add indexes the old server lacked; ``init-db`` adds them to old
databases too, but never alters a column.
"""

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Double, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from foof.extensions import db

#: utf8mb4 on MySQL so emoji survive; ignored by SQLite.
MYSQL_ARGS = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}


class User(db.Model):
    __tablename__ = "users"
    # A unique *index* rather than a column constraint, so init-db can add it to an old
    # database that lacks it (registration relies on it to refuse a racing duplicate).
    __table_args__ = (Index("ux_users_phonenumber", "phonenumber", unique=True), MYSQL_ARGS)

    uuid: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    password: Mapped[str] = mapped_column(String(255), nullable=False)
    username: Mapped[str] = mapped_column(String(255), nullable=False)
    phonenumber: Mapped[str] = mapped_column(String(255), nullable=False)
    idcard: Mapped[str] = mapped_column(String(255), nullable=False)
    studentid: Mapped[str] = mapped_column(String(255), nullable=False)
    address: Mapped[str] = mapped_column(String(255), nullable=False)
    avatarurl: Mapped[str] = mapped_column(String(255), nullable=False)
    verified: Mapped[int] = mapped_column(Integer, nullable=False)
    score: Mapped[int] = mapped_column(Integer, nullable=False)
    info: Mapped[str | None] = mapped_column(String(255), nullable=True)


class Item(db.Model):
    __tablename__ = "items"
    __table_args__ = (
        Index("ix_items_uuid", "uuid"),
        Index("ix_items_to", "to"),
        MYSQL_ARGS,
    )

    itemid: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(255), nullable=False)
    type: Mapped[int] = mapped_column(Integer, nullable=False)
    price: Mapped[float] = mapped_column(Double, nullable=False)
    imgurl: Mapped[str] = mapped_column(String(255), nullable=False)
    depreciatione: Mapped[int] = mapped_column(Integer, nullable=False)
    note: Mapped[str] = mapped_column(String(255), nullable=False)
    sold: Mapped[int] = mapped_column(Integer, nullable=False)
    to: Mapped[int | None] = mapped_column("to", Integer, nullable=True)


class Favourite(db.Model):
    __tablename__ = "favourites"
    __table_args__ = (
        Index("ux_favourites_uuid_itemid", "uuid", "itemid", unique=True),
        MYSQL_ARGS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    itemid: Mapped[int] = mapped_column(Integer, nullable=False)
    uuid: Mapped[int] = mapped_column(Integer, nullable=False)


class Chat(db.Model):
    __tablename__ = "chats"
    __table_args__ = (
        Index("ix_chats_to_fetched", "to", "fetched"),
        MYSQL_ARGS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender: Mapped[int] = mapped_column("from", Integer, nullable=False)
    to: Mapped[int] = mapped_column("to", Integer, nullable=False)
    type: Mapped[int] = mapped_column(Integer, nullable=False)
    data: Mapped[str] = mapped_column(String(255), nullable=False)
    fetched: Mapped[bool] = mapped_column(Boolean, nullable=False)
    createdAt: Mapped[datetime] = mapped_column("createdAt", DateTime, nullable=False)
    updatedAt: Mapped[datetime] = mapped_column("updatedAt", DateTime, nullable=False)
