"""Accounts: registration, login, password reset, profile changes and avatars."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError

from foof.domain import events, media, passwords, ratelimit, reads, seclog, sessions, tokens, verification
from foof.domain.errors import (
    AccountDisabled,
    BadToken,
    Invalid,
    PhoneTaken,
    TooFrequent,
    UserNotFound,
    WrongPassword,
)
from foof.domain.tx import after_commit, atomic, upsert
from foof.domain.values import parse_text, phone_text
from foof.extensions import db
from foof.models import AccountBlock, Credential, User

log = logging.getLogger(__name__)

DEFAULT_USERNAME = "新手咸鱼人员"
# U+FF1E U+FE3F U+FF1C: the seed's ">^<" is an OCR reading of these.
DEFAULT_INFO = "这家伙很懒，什么都没有写＞︿＜"
DEFAULT_AVATAR = "image/avatar/default.jpg"
DEFAULT_SCORE = 10
LOGIN_FAILURES = 10
LOGIN_WINDOW = 15 * 60
#: The rate-limit kind of password guesses: legacy and REST logins and PATCH /users/password's
#: oldPassword all count against the same account's 10 per 15 minutes.
GUESS = "login:fail"
#: Fields /user/modify may change; verified, score, phonenumber, avatarurl never.
MODIFIABLE = ("username", "password", "idcard", "studentid", "address", "info")


def _uuid(value: Any) -> int:
    try:
        uuid = int(value)
    except (TypeError, ValueError):
        raise UserNotFound() from None
    if not -(2**31) <= uuid < 2**31:
        raise UserNotFound()
    return uuid


def get(uuid: Any) -> User:
    """The user with this uuid (int or digit string), or :class:`UserNotFound`."""
    user = db.session.get(User, _uuid(uuid))
    if user is None:
        raise UserNotFound()
    return user


#: Built once (every token route runs it): building a select costs more than running it.
_VIEW = select(User.__table__).where(User.__table__.c.uuid == bindparam("uuid"))


def view(uuid: Any) -> reads.Record:
    """A read-only row of the user (Core select: about half the cost of an ORM load, and
    every token route pays it), or :class:`UserNotFound`. Attributes as on ``User``."""
    found = reads.first(_VIEW, {"uuid": _uuid(uuid)})
    if found is None:
        raise UserNotFound()
    return found


_users, _credentials = User.__table__, Credential.__table__
#: The token routes' one read: the user row and the last password change (outer join: an
#: account whose password never changed has no credentials row). Built once, like _VIEW.
_TOKEN_VIEW = (
    select(_users, _credentials.c.password_changed_ms)
    .select_from(_users.outerjoin(_credentials, _credentials.c.uuid == _users.c.uuid))
    .where(_users.c.uuid == bindparam("uuid"))
)
#: The legacy login's lookup; its row is also the reply's user.
_BY_PHONE = select(_users).where(_users.c.phonenumber == bindparam("phone"))
_CHANGED = select(_credentials.c.password_changed_ms).where(_credentials.c.uuid == bindparam("uuid"))
#: The hash a password check compares with, and the password-change time seen with it (one
#: statement, so both come from the same moment).
_blocks = AccountBlock.__table__
_HASH_AND_CHANGE = (
    select(_users.c.password, _credentials.c.password_changed_ms, _blocks.c.uuid.label("blocked"))
    .select_from(
        _users.outerjoin(_credentials, _credentials.c.uuid == _users.c.uuid).outerjoin(
            _blocks, _blocks.c.uuid == _users.c.uuid
        )
    )
    .where(_users.c.uuid == bindparam("uuid"))
)


def token_claims(token: object) -> tuple[int, int]:
    """``(uuid, generate)`` of a well-formed login token, or :class:`BadToken`. Nothing is
    looked up: the caller must refuse it when :func:`tokens.issued_before` the account's
    password change (``password_changed_ms`` of ``credentials``)."""
    uuid, generate = tokens.read_login_claims(token)
    try:
        return _uuid(uuid), generate
    except UserNotFound:
        raise BadToken() from None


def token_uuid(token: object) -> int:
    """The uuid a valid login token names, or :class:`BadToken` (also for a token issued
    before the account's last password change; the account itself is not looked up)."""
    uuid, generate = token_claims(token)
    found = reads.first(_CHANGED, {"uuid": uuid})
    if tokens.issued_before(generate, None if found is None else found.password_changed_ms):
        raise BadToken()
    return uuid


def from_login_token(token: object) -> reads.Record:
    """The user (a read-only row) a login token speaks for; :class:`BadToken` for anything
    else, including a token issued before the password last changed. One read."""
    uuid, generate = token_claims(token)
    found = reads.first(_TOKEN_VIEW, {"uuid": uuid})
    if found is None:
        raise BadToken()
    # The row is rendered as the user (/user/me): the join's column is not one of its fields.
    if tokens.issued_before(generate, found._mapping.pop("password_changed_ms")):
        raise BadToken()
    return found


def password_changed(uuid: int, keep_session: object = None) -> None:
    """Record a password change inside the caller's transaction: every login token issued
    before now is refused from the commit on, and every REST session but ``keep_session``
    ends. The stored time is one millisecond ahead, so a token minted in this very
    millisecond (before the change) is refused too; logins after it mint ``generate`` at
    least this value (:func:`check_password`)."""
    values = {"uuid": int(uuid), "password_changed_ms": tokens.now_ms() + 1}
    upsert(Credential, values, ["uuid"], ["password_changed_ms"])
    sessions.end_all_in(uuid, keep_session)


def guess_subject(uuid: int | str) -> str:
    """The rate-limit subject of password guesses at an account, whichever name found it."""
    return f"uuid:{int(uuid)}"


def reserve_guess(subject: str, kind: str = GUESS) -> int:
    """Reserve one password (or reset-answer) check for ``subject`` before making it: the
    event id, or :class:`TooFrequent` when the window's 10 are used up. Count, check and
    record are one step in the database, so attempts sent at once cannot overrun it; a
    check that succeeds gives its reservation back (:func:`guess_succeeded`)."""
    return _reserve(subject, kind)[0]


def _reserve(subject: str, kind: str, then: Callable[[], Any] | None = None) -> tuple[int, Any]:
    """:func:`reserve_guess`, and ``then()`` run in the same transaction once the guess is
    reserved: ``(event, what then returned)``."""

    def work() -> tuple[int | None, Any]:
        event = ratelimit.take(kind, subject, LOGIN_FAILURES, LOGIN_WINDOW)
        return event, (then() if event is not None and then is not None else None)

    event, extra = atomic(work)
    if event is None:
        seclog.event("login.locked", subject=_masked_subject(subject), kind=kind)
        raise TooFrequent()
    return event, extra


def _hash_and_change(uuid: int) -> Any:
    """The account's hash, last password change and block, read together (or None)."""
    return db.session.execute(_HASH_AND_CHANGE, {"uuid": int(uuid)}).first()


def _masked_subject(subject: str) -> str:
    """A rate-limit subject for the security log: ``phone:`` and ``name:`` values masked."""
    prefix, _, value = subject.partition(":")
    return subject if prefix == "uuid" else f"{prefix}:{seclog.mask(value)}"


def _new_user(phonenumber: str, password_hash: str) -> User:
    return User(
        password=password_hash,
        username=DEFAULT_USERNAME,
        phonenumber=phonenumber,
        idcard="",
        studentid="0",
        address="",
        avatarurl=DEFAULT_AVATAR,
        verified=0,
        score=DEFAULT_SCORE,
        info=DEFAULT_INFO,
    )


def _require_password(password: object) -> None:
    if not isinstance(password, str) or password == "" or len(password) > 255:
        raise Invalid()


def _phone_taken(phonenumber: str) -> bool:
    return db.session.execute(select(User.uuid).where(User.phonenumber == phonenumber)).first() is not None


def register(phonenumber: Any, code: Any, password: Any) -> int:
    """Create an account after checking the SMS code. Only these three inputs are read; the
    phone number may be a JSON integer (stored as its digits)."""
    phonenumber = verification.parse_phone(phonenumber)
    _require_password(password)
    password_hash = passwords.hash_password(password)

    def work() -> int:
        if _phone_taken(phonenumber):
            raise PhoneTaken()
        verification.consume(phonenumber, code)
        user = _new_user(phonenumber, password_hash)
        db.session.add(user)
        db.session.flush()
        after_commit(events.user_changed, user.uuid)
        return user.uuid

    try:
        uuid = atomic(work)
    except IntegrityError:  # lost a race for the same number
        db.session.rollback()
        raise PhoneTaken() from None
    log.info("user %s registered", uuid)
    return uuid


def create_user(phonenumber: str, password: str) -> int:
    """For admins and demos (``flask create-user``): no SMS code needed."""
    if not verification.valid_phone(phonenumber):
        raise Invalid()
    _require_password(password)

    def work() -> int:
        if _phone_taken(phonenumber):
            raise PhoneTaken()
        user = _new_user(phonenumber, passwords.hash_password(password))
        db.session.add(user)
        db.session.flush()
        after_commit(events.user_changed, user.uuid)
        return user.uuid

    return atomic(work)


def reset_password(phonenumber: Any, code: Any, password: Any) -> None:
    """Set a new password after checking the SMS code (the number as in :func:`register`)."""
    phonenumber = verification.parse_phone(phonenumber)
    _require_password(password)
    password_hash = passwords.hash_password(password)

    def work() -> int:
        uuid = db.session.execute(select(User.uuid).where(User.phonenumber == phonenumber)).scalar()
        if uuid is None:
            raise Invalid()
        verification.consume(phonenumber, code)
        db.session.execute(update(User).where(User.uuid == uuid).values(password=password_hash))
        password_changed(uuid)  # old tokens refused, every REST session ended
        return uuid

    uuid = atomic(work)
    log.info("user %s reset the password", uuid)
    seclog.event("password.reset", uuid=uuid, phone=seclog.mask(phonenumber))


def admin_reset_password(uuid: int, password: str, actor: str = "cli") -> None:
    """Set account ``uuid``'s password for a staff member (``flask reset-password``): no SMS
    code. ``password`` is what the client will send at login (the CLI passes the SHA-1 hex of
    the typed password, as the app sends it). Every token and REST session ends, and the
    account's failed-guess lockout is left as it is (``unlock-user`` clears it)."""
    uuid = _uuid(uuid)
    _require_password(password)
    password_hash = passwords.hash_password(password)

    def work() -> None:
        if db.session.get(User, uuid) is None:
            raise UserNotFound()
        db.session.execute(update(User).where(User.uuid == uuid).values(password=password_hash))
        password_changed(uuid)

    atomic(work)
    log.info("user %s: password reset by %s", uuid, actor)
    seclog.event("password.reset", uuid=uuid, actor=actor, by="admin")


def check_password(
    uuid: int,
    stored: str,
    password: str,
    subject: str | None = None,
    then: Callable[[int], object] | None = None,
) -> int:
    """Check ``password`` for account ``uuid`` under the guess limit: :class:`TooFrequent`
    when the account's guesses are used up (nothing checked), :class:`WrongPassword`, else
    the moment (ms) the checked hash was read. A hash that is not the configured method and
    parameters (the old server's clear text, scrypt, weaker Argon2id) is replaced on success.

    The hash is read again here with the password-change time (``stored`` is what the
    caller found; the row may have changed since). What a correct password earns — a
    token's ``generate``, a session — counts from the returned moment: a password changed
    while the check ran (a slow hash) is newer than it, so the old password earns nothing
    that outlives the change (:func:`foof.domain.sessions.start_in`).

    ``then(issued_ms)`` runs in the transaction that gives the reservation back, so what the
    password earns (a REST session row) costs no commit of its own. If it refuses
    (:class:`WrongPassword`: the password changed meanwhile), the reservation is still given
    back: the password checked was right."""
    read_ms = tokens.now_ms()  # before the read: a change after it is newer than the check
    # The reservation and the read in one transaction (one commit, no second round of
    # connection checkout and rollback); it ends before the slow check.
    event, row = _reserve(subject or guess_subject(uuid), GUESS, then=lambda: _hash_and_change(uuid))
    if row is None:
        atomic(ratelimit.give_back, event)
        raise WrongPassword()
    stored, changed_ms = row.password, row.password_changed_ms
    try:
        ok, upgraded = passwords.check(stored, password)
    except passwords.HashBusy:
        atomic(ratelimit.give_back, event)  # nothing was checked: not a guess
        raise
    if not ok:
        seclog.event("login.failed", uuid=uuid)
        raise WrongPassword()  # the reservation stays: it was a failed guess
    if row.blocked is not None:
        # Said only to someone who knows the password: a guesser learns nothing more.
        atomic(ratelimit.give_back, event)
        seclog.event("login.refused", uuid=uuid, why="disabled")
        raise AccountDisabled()

    # Not before the change it saw (its time is one ms ahead of that commit, see
    # password_changed), so a login right after a change is valid.
    issued = max(read_ms, int(changed_ms or 0))

    def work() -> None:
        ratelimit.give_back(event)
        if upgraded:
            # Only over the hash that was checked: a password changed during the slow check
            # must not be overwritten by a hash of the old one.
            db.session.execute(update(User).where(User.uuid == uuid, User.password == stored).values(password=upgraded))
        if then is not None:
            then(issued)

    try:
        atomic(work)
    except WrongPassword:
        atomic(ratelimit.give_back, event)
        raise
    if upgraded:
        log.info("user %s: password re-hashed to the configured method", uuid)
    return issued


def login(phonenumber: Any, password: Any) -> tuple[reads.Record, str]:
    """``(user, token)``: the user's row as read before the check (one Core read serves the
    lookup and the reply). Failed guesses are limited per account (10 per 15 minutes, shared
    with the secondhand login); a number without an account is limited per number. The
    phone number may be a JSON integer (its digits are the login name)."""
    phonenumber = phone_text(phonenumber)
    if not isinstance(password, str):
        raise Invalid()
    if not phonenumber or not password or len(phonenumber) > 255:
        raise Invalid()
    # "~…" is the placeholder of accounts made on the secondhand face: never a legacy login.
    found = None if phonenumber.startswith("~") else reads.first(_BY_PHONE, {"phone": phonenumber})
    if found is None:
        reserve_guess("phone:" + phonenumber)
        seclog.event("login.failed", phone=seclog.mask(phonenumber), why="no-account")
        raise UserNotFound()
    issued = check_password(found.uuid, found.password, password)
    return found, tokens.login_token(found.uuid, generate_ms=issued)


def modify(uuid: int, fields: Mapping[str, Any]) -> None:
    """Change the profile fields present in ``fields``; absent ones stay as they are.

    An empty ``password`` counts as absent: browser forms send every input, and an empty
    password could never log in again (the documented way is to omit the field).
    """
    values: dict[str, str] = {}
    for name in MODIFIABLE:
        if name in fields:
            values[name] = parse_text(fields[name])
    if values.get("password") == "":
        del values["password"]
    elif "password" in values:
        values["password"] = passwords.hash_password(values["password"])
    if values:

        def work() -> None:
            db.session.execute(update(User).where(User.uuid == uuid).values(**values))
            if "password" in values:
                password_changed(uuid)  # the caller's token too: the app logs in again
            after_commit(events.user_changed, uuid)

        atomic(work)
        if "password" in values:
            seclog.event("password.changed", uuid=uuid)


def set_avatar(uuid: int, data: bytes) -> str:
    """Validate and re-encode ``data``, write it atomically, then point ``avatarurl`` at it."""
    jpeg = media.reencode(data, media.AVATAR_SIDE)
    relative = f"avatar/{int(uuid)}.jpg"
    media.write_atomic(current_app.config["FOOF_MEDIA_ROOT"], relative, jpeg)
    url = "image/" + relative
    atomic(lambda: db.session.execute(update(User).where(User.uuid == uuid).values(avatarurl=url)))
    return url
