"""New tables for verification codes and rate limiting.

Codes live in the database rather than process memory (the old server's bug) so every
waitress thread and every server process sees the same codes, and they survive restarts.
"""

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from foof.extensions import db
from foof.models.legacy import MYSQL_ARGS


class VerifyCode(db.Model):
    """An SMS code: stored as an HMAC, never in clear; one number, 10 minutes, 5 tries."""

    __tablename__ = "verify_codes"
    __table_args__ = (Index("ix_verify_codes_phone", "phonenumber", "created_at"), MYSQL_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    phonenumber: Mapped[str] = mapped_column(String(32), nullable=False)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    tries: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # "live" until used or burned; kept afterwards for the audit trail.
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="live")


class RateEvent(db.Model):
    """One event that counts against a limit: an SMS sent, a mail sent, a failed login."""

    __tablename__ = "rate_events"
    __table_args__ = (Index("ix_rate_events_lookup", "kind", "subject", "created_at"), MYSQL_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    subject: Mapped[str] = mapped_column(String(255), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class RateLock(db.Model):
    """One row per rate-limited subject (``kind``, ``subject``): :func:`foof.domain.ratelimit.take`
    writes it first, so every check-and-record for that subject runs one after another — the
    database decides who gets the last allowed attempt, not the timing of threads."""

    __tablename__ = "rate_locks"
    __table_args__ = (MYSQL_ARGS,)

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    subject: Mapped[str] = mapped_column(String(191), primary_key=True)
    touched_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class Credential(db.Model):
    """When an account's password last changed (reset, modify or ``PATCH /users/password``):
    login tokens issued before it are refused. Kept beside ``users`` so the legacy table
    stays exactly as the old server made it."""

    __tablename__ = "credentials"
    __table_args__ = (MYSQL_ARGS,)

    uuid: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    #: Milliseconds since the epoch, the unit of the login token's ``generate`` claim.
    password_changed_ms: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class AccountBlock(db.Model):
    """A disabled account: the row exists while the account is disabled (staff or ``flask
    disable-user``). Disabling also records a password change, so every token and session the
    account held stops working at once; :func:`foof.domain.accounts.check_password` refuses a
    login while the row exists."""

    __tablename__ = "account_blocks"
    __table_args__ = (MYSQL_ARGS,)

    uuid: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    since: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    reason: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    #: Who disabled it: a staff uuid as text, or ``"cli"``.
    actor: Mapped[str] = mapped_column(String(64), nullable=False, default="")
