"""Roles and the verified-student fact (issue #15).

Roles (``user_profiles.role``, strings as the seed's default ``"3"``): ``"1"`` admin, ``"2"``
moderator, ``"3"`` student. Admins and moderators are *staff*: both may use the console and
every queue in it; only ``flask --app foof grant-role`` changes a role, nothing on either API.

"This person is a verified student" is one fact, stored where the legacy face always kept it:
``users.verified = 1``. Two proofs set it: the campus-mail link (:mod:`foof.domain.mailverify`)
and a student card approved by staff (:func:`approve`). The legacy face shows the column as
``verified``; the REST face's ``identified`` is read from the same column (:func:`identified`),
and an approval also writes ``user_profiles.identified = "1"`` so the two columns agree.

A student card's review (``card_reviews``, one row per user): each upload puts the new card in
the queue as ``pending``; staff ``approve`` it or ``reject`` it with a reason the student sees
on ``GET /users/detail`` (``studentCardState``, ``studentCardReason``). A decision names the
card it was made on: a card replaced meanwhile is not decided by a look at the old one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update

from foof.domain import accounts, audit, clock, verification
from foof.domain.errors import DomainError, Invalid, UserNotFound
from foof.domain.tx import atomic, upsert
from foof.extensions import db
from foof.models import CardReview, User, UserProfile

ADMIN, MODERATOR, STUDENT = "1", "2", "3"
ROLE_NAMES = {"admin": ADMIN, "moderator": MODERATOR, "student": STUDENT}
ROLE_LABELS = {ADMIN: "管理员", MODERATOR: "审核员", STUDENT: "学生"}
STAFF = frozenset({ADMIN, MODERATOR})
PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
#: ``studentCardState`` on GET /users/detail: null without a card.
WIRE_STATE = {PENDING: "0", APPROVED: "1", REJECTED: "2"}
MAX_REASON = 255


class CardChanged(DomainError):
    """The card was replaced, or already decided, since the reviewer opened it."""


def role_of(uuid: int) -> str:
    role = db.session.execute(select(UserProfile.role).where(UserProfile.uuid == int(uuid))).scalar()
    return role or STUDENT


def is_staff(uuid: int) -> bool:
    return role_of(uuid) in STAFF


def find_user(who: Any) -> int:
    """A uuid from a phone number (a legacy login) or a REST login name."""
    if not isinstance(who, str) or not who or len(who) > 255:
        raise Invalid()
    uuid = None
    if verification.valid_phone(who):
        uuid = db.session.execute(select(User.uuid).where(User.phonenumber == who)).scalar()
    if uuid is None:
        uuid = db.session.execute(select(UserProfile.uuid).where(UserProfile.login == who)).scalar()
    if uuid is None:
        raise UserNotFound()
    return int(uuid)


def grant_role(who: Any, role_name: Any) -> tuple[int, str]:
    """``flask --app foof grant-role``: ``(uuid, role)``; audited with actor 0 (the command line)."""
    if role_name not in ROLE_NAMES:
        raise Invalid()
    role = ROLE_NAMES[role_name]

    def work() -> int:
        uuid = find_user(who)
        accounts.get(uuid)
        if db.session.get(UserProfile, uuid) is None:
            db.session.add(UserProfile(uuid=uuid, role=role, identified="0", alias=None, created_at=clock.now()))
        else:
            db.session.execute(update(UserProfile).where(UserProfile.uuid == uuid).values(role=role))
        audit.record(audit.CLI, "role.grant", "user", uuid, role_name)
        return uuid

    return atomic(work), role


def identified(user: User) -> str:
    """The REST face's ``identified``: the one verified-student fact, ``users.verified``."""
    return "1" if user.verified == 1 else "0"


def card_uploaded(uuid: int, card: str) -> None:
    """A new card is pending review (call inside the upload's transaction)."""
    values = {"uuid": int(uuid), "card": card, "state": PENDING, "reason": None, "uploaded_at": clock.now()}
    values.update(reviewed_at=None, reviewer=None)
    upsert(CardReview, values, ["uuid"], ["card", "state", "reason", "uploaded_at", "reviewed_at", "reviewer"])


def review_of(uuid: int) -> CardReview | None:
    return db.session.get(CardReview, int(uuid))


def wire_review(uuid: int) -> tuple[str | None, str | None]:
    """``(studentCardState, studentCardReason)`` for GET /users/detail."""
    review = review_of(uuid)
    if review is None:
        return None, None
    return WIRE_STATE.get(review.state), review.reason if review.state == REJECTED else None


def pending(limit: int = 50) -> Sequence[CardReview]:
    """The queue, oldest upload first."""
    stmt = select(CardReview).where(CardReview.state == PENDING).order_by(CardReview.uploaded_at, CardReview.uuid)
    return db.session.execute(stmt.limit(limit)).scalars().all()


def pending_count() -> int:
    stmt = select(func.count()).select_from(CardReview).where(CardReview.state == PENDING)
    return int(db.session.execute(stmt).scalar_one())


def _decide(uuid: Any, card: Any, state: str, reason: str | None, actor: int) -> None:
    try:
        uuid = int(uuid)
    except (TypeError, ValueError):
        raise UserNotFound() from None
    if not isinstance(card, str) or not card:
        raise Invalid()

    def work() -> None:
        done = db.session.execute(
            update(CardReview)
            .where(CardReview.uuid == uuid, CardReview.card == card, CardReview.state == PENDING)
            .values(state=state, reason=reason, reviewed_at=clock.now(), reviewer=actor)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult
            raise CardChanged()
        if state == APPROVED:
            db.session.execute(update(User).where(User.uuid == uuid).values(verified=1))
            db.session.execute(update(UserProfile).where(UserProfile.uuid == uuid).values(identified="1"))
        audit.record(actor, "card." + ("approve" if state == APPROVED else "reject"), "user", uuid, reason or "")

    atomic(work)


def approve(uuid: Any, card: Any, actor: int) -> None:
    """The card proves a student: ``users.verified = 1`` (both faces)."""
    _decide(uuid, card, APPROVED, None, actor)


def reject(uuid: Any, card: Any, reason: Any, actor: int) -> None:
    """Refuse the card with a reason (1-255 characters) the student sees."""
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
        raise Invalid()
    _decide(uuid, card, REJECTED, reason.strip(), actor)
