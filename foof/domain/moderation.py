"""Staff actions on accounts: disable, enable, unlock a login lockout.

Used by the admin commands (``flask disable-user`` …) and the staff console. Disabling writes an
``account_blocks`` row and records a password change in the same transaction, so every login
token and REST session of the account stops working at the commit; while the row exists a
correct password is answered with :class:`~foof.domain.errors.AccountDisabled` on both faces.
Enabling removes the row; tokens issued before the disable stay refused.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from foof.domain import accounts, clock, seclog
from foof.domain.errors import UserNotFound
from foof.domain.tx import atomic
from foof.extensions import db
from foof.models import AccountBlock, RateEvent, User


def is_disabled(uuid: int) -> bool:
    return db.session.get(AccountBlock, int(uuid)) is not None


def disable(uuid: int, reason: str = "", actor: str = "cli") -> bool:
    """Disable account ``uuid``: True when it was enabled until now, False when already disabled."""
    uuid = int(uuid)

    def work() -> bool:
        if db.session.get(User, uuid) is None:
            raise UserNotFound()
        if db.session.get(AccountBlock, uuid) is not None:
            return False
        db.session.add(AccountBlock(uuid=uuid, since=clock.now(), reason=str(reason)[:255], actor=str(actor)[:64]))
        accounts.password_changed(uuid)  # every token and session ends with this commit
        return True

    changed = atomic(work)
    if changed:
        seclog.event("account.disabled", uuid=uuid, actor=actor, reason=reason or "-")
    return changed


def enable(uuid: int, actor: str = "cli") -> bool:
    """Enable account ``uuid`` again: True when it was disabled."""
    uuid = int(uuid)

    def work() -> bool:
        if db.session.get(User, uuid) is None:
            raise UserNotFound()
        return db.session.execute(delete(AccountBlock).where(AccountBlock.uuid == uuid)).rowcount > 0

    changed = atomic(work)
    if changed:
        seclog.event("account.enabled", uuid=uuid, actor=actor)
    return changed


def unlock(uuid: int, actor: str = "cli") -> int:
    """Forget the failed password guesses that lock account ``uuid`` out (by uuid, by its phone
    number and by its REST login name): the number of failures forgotten."""
    uuid = int(uuid)
    from foof.models import UserProfile

    def work() -> int:
        phone = db.session.execute(select(User.phonenumber).where(User.uuid == uuid)).scalar()
        if phone is None:
            raise UserNotFound()
        login = db.session.execute(select(UserProfile.login).where(UserProfile.uuid == uuid)).scalar()
        subjects = [accounts.guess_subject(uuid), "phone:" + phone]
        if login:
            subjects.append("name:" + login)
        stmt = delete(RateEvent).where(RateEvent.kind == accounts.GUESS, RateEvent.subject.in_(subjects))
        return db.session.execute(stmt).rowcount

    forgotten = atomic(work)
    seclog.event("account.unlocked", uuid=uuid, actor=actor, forgotten=forgotten)
    return forgotten
