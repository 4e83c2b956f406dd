"""Staff actions on accounts and listings: disable, enable, unlock a login lockout, take down.

Used by the admin commands (``flask disable-user`` …) and the staff console. Disabling writes an
``account_blocks`` row and records a password change in the same transaction, so every login
token and REST session of the account stops working at the commit; while the row exists a
correct password is answered with :class:`~foof.domain.errors.AccountDisabled` on both faces.
Enabling removes the row; tokens issued before the disable stay refused.

A disabled account's listings are held (hidden from every read and from search, see
:func:`foof.domain.listings.hold_listings`) in the same transaction, and come back when it is
enabled. Every action that changes something is written to the audit log
(:mod:`foof.domain.audit`) in its own transaction. ``actor`` is a staff uuid as text, or
``"cli"`` (audited as actor 0).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select

from foof.domain import accounts, audit, clock, listings, ratelimit, seclog
from foof.domain.errors import UserNotFound
from foof.domain.tx import after_commit, atomic
from foof.extensions import db
from foof.models import AccountBlock, RateEvent, User, UserProfile

#: The ``rate_locks`` kind that serialises disabling one account.
BLOCK_LOCK = "account:block"


def _actor_id(actor: object) -> int:
    text = str(actor)
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else audit.CLI


def is_disabled(uuid: int) -> bool:
    return db.session.get(AccountBlock, int(uuid)) is not None


def disable(uuid: int, reason: str = "", actor: str = "cli") -> bool:
    """Disable account ``uuid``: True when it was enabled until now, False when already disabled."""
    return atomic(disable_in, int(uuid), reason, actor)


def disable_in(uuid: int, reason: str = "", actor: str = "cli") -> bool:
    """:func:`disable` inside the caller's transaction (a report resolved by disabling)."""
    uuid = int(uuid)
    if db.session.get(User, uuid) is None:
        raise UserNotFound()
    # Two disables at once (two staff, the console and the command line): the lock row makes
    # the second wait (MySQL) or retry (SQLite), and the locking read then sees the first's
    # block, so it answers "already disabled" instead of a duplicate key.
    ratelimit.hold(BLOCK_LOCK, uuid)
    blocked = select(AccountBlock.uuid).where(AccountBlock.uuid == uuid).with_for_update()
    if db.session.execute(blocked).first() is not None:
        return False
    db.session.add(AccountBlock(uuid=uuid, since=clock.now(), reason=str(reason)[:255], actor=str(actor)[:64]))
    accounts.password_changed(uuid)  # every token and session ends with this commit
    listings.hold_listings(uuid)
    audit.record(_actor_id(actor), "user.disable", "user", uuid, str(reason))
    after_commit(lambda: seclog.event("account.disabled", uuid=uuid, actor=actor, reason=reason or "-"))
    return True


def enable(uuid: int, actor: str = "cli") -> bool:
    """Enable account ``uuid`` again: True when it was disabled."""
    uuid = int(uuid)

    def work() -> bool:
        if db.session.get(User, uuid) is None:
            raise UserNotFound()
        gone = db.session.execute(delete(AccountBlock).where(AccountBlock.uuid == uuid))
        if gone.rowcount == 0:  # type: ignore[attr-defined]  # a CursorResult
            return False
        listings.restore_listings(uuid)
        audit.record(_actor_id(actor), "user.enable", "user", uuid)
        return True

    changed = atomic(work)
    if changed:
        seclog.event("account.enabled", uuid=uuid, actor=actor)
    return changed


def unlock(uuid: int, actor: str = "cli") -> int:
    """Forget the failed password guesses that lock account ``uuid`` out (by uuid, by its phone
    number and by its REST login name): the number of failures forgotten."""
    uuid = int(uuid)

    def work() -> int:
        phone = db.session.execute(select(User.phonenumber).where(User.uuid == uuid)).scalar()
        if phone is None:
            raise UserNotFound()
        login = db.session.execute(select(UserProfile.login).where(UserProfile.uuid == uuid)).scalar()
        subjects = [accounts.guess_subject(uuid), "phone:" + phone]
        if login:
            subjects.append("name:" + login)
        stmt = delete(RateEvent).where(RateEvent.kind == accounts.GUESS, RateEvent.subject.in_(subjects))
        forgotten = int(db.session.execute(stmt).rowcount)  # type: ignore[attr-defined]
        audit.record(_actor_id(actor), "user.unlock", "user", uuid, f"{forgotten} failures forgotten")
        return forgotten

    forgotten = atomic(work)
    seclog.event("account.unlocked", uuid=uuid, actor=actor, forgotten=forgotten)
    return forgotten


def take_down(itemid: object, reason: str = "", actor: str = "cli") -> int:
    """Remove listing ``itemid`` from both faces and search (its seller's own deletion, done by
    staff; a held listing of a disabled seller is simply never restored): the item's id.
    :class:`~foof.domain.errors.ItemNotFound` when it is missing or already deleted."""
    return atomic(take_down_in, itemid, reason, actor)


def take_down_in(itemid: object, reason: str = "", actor: str = "cli") -> int:
    """:func:`take_down` inside the caller's transaction."""
    item = listings.take_down(itemid)
    audit.record(_actor_id(actor), "item.takedown", "item", item.itemid, str(reason))
    return item.itemid


def _summary(user: User, profile: UserProfile | None) -> dict[str, object]:
    return {
        "uuid": user.uuid,
        "username": user.username,
        "phone": None if user.phonenumber.startswith("~") else user.phonenumber,
        "login": profile.login if profile is not None else None,
        "alias": profile.alias if profile is not None else None,
        "role": (profile.role if profile is not None else None) or "3",
        "verified": user.verified == 1,
        "disabled": is_disabled(user.uuid),
        "failures": _failures(user.uuid),
    }


def user_summary(uuid: int) -> dict[str, object]:
    """What the console shows of one account; :class:`UserNotFound` when it does not exist."""
    user = db.session.get(User, int(uuid))
    if user is None:
        raise UserNotFound()
    return _summary(user, db.session.get(UserProfile, user.uuid))


def names_of(uuid: int) -> str:
    """A short label for an account in the console (``#5 name``); 0 is the command line."""
    if not uuid:
        return "命令行"
    user = db.session.get(User, int(uuid))
    return f"#{uuid} {user.username}" if user is not None else f"#{uuid}"


def search_users(query: object, limit: int = 30) -> list[dict[str, object]]:
    """Users whose phone number, legacy name, REST login or alias contains ``query``, or whose
    uuid is ``query``; at most ``limit``, newest first. Bound parameters only (LIKE with the
    wildcards of the query escaped)."""
    if not isinstance(query, str):
        return []
    query = query.strip()[:64]
    if not query:
        return []
    pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    conditions: list[Any] = [
        User.phonenumber.like(pattern, escape="\\"),
        User.username.like(pattern, escape="\\"),
        UserProfile.login.like(pattern, escape="\\"),
        UserProfile.alias.like(pattern, escape="\\"),
    ]
    if query.isascii() and query.isdigit() and len(query) < 10:  # not "²" nor "١"
        conditions.append(User.uuid == int(query))
    stmt = (
        select(User, UserProfile)
        .outerjoin(UserProfile, UserProfile.uuid == User.uuid)
        .where(or_(*conditions))
        .order_by(User.uuid.desc())
        .limit(limit)
    )
    found = [_summary(user, profile) for user, profile in db.session.execute(stmt).all()]
    return found


def _failures(uuid: int) -> int:
    return ratelimit.count(accounts.GUESS, accounts.guess_subject(uuid), accounts.LOGIN_WINDOW)
