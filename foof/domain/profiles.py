"""Secondhand accounts: a ``users`` row plus a ``user_profiles`` row (docs/architecture.md §1).

Passwords are stored exactly as the legacy face stores them — werkzeug's hash of the SHA-1
hex of what the person typed — so once an account has a phone number the same password
works in the legacy app too. An account created here holds a reserved placeholder in
``users.phonenumber`` (``~`` + random hex) that no legacy login can ever match.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid as uuidlib
from collections.abc import Mapping
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from foof.domain import accounts, cards, clock, events, media, passwords, ratelimit, sessions, verification
from foof.domain.errors import DomainError, Invalid, NoLiveCode, TooFrequent, UserNotFound, WrongPassword
from foof.domain.tx import after_commit, atomic
from foof.extensions import db
from foof.models import User, UserProfile

PLACEHOLDER = "~"
LOGIN_RE = re.compile(r"^[A-Za-z0-9_.@-]{3,64}\Z")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,20}\Z")
#: Fields POST /users/detail may change; role and identified are the server's decision.
#: A new or changed phoneNumber needs ``verifyCode``, an SMS code for it (/user/requirecode).
DETAIL_FIELDS = ("studentNumber", "phoneNumber", "email", "alias", "description")
DAY = 86400
#: Rate-limit kinds: accounts created per client address, wrong reset answers per account.
REGISTER_KIND = "register:ip"
RESET_KIND = "reset:fail"


class LoginTaken(DomainError):
    """4000: the login name is in use."""


class PhoneInUse(DomainError):
    pass


class RegistrationsExhausted(TooFrequent):
    """The client address created FOOF_REGISTRATIONS_PER_IP_PER_DAY accounts in 24 hours."""


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def is_placeholder(phonenumber: str) -> bool:
    return phonenumber.startswith(PLACEHOLDER)


def _password(value: object, minimum: int = 6) -> str:
    if not isinstance(value, str) or not minimum <= len(value) <= 128:
        raise Invalid()
    return value


def register(login: Any, password: Any, question: Any, answer: Any, ip: str | None = None) -> int:
    """Create a secondhand account. A login name that could be a phone number (all digits,
    optionally a leading ``+``) is refused: it would shadow a phone login. At most
    ``FOOF_REGISTRATIONS_PER_IP_PER_DAY`` accounts per client address in any 24 hours (0 =
    no limit), counted in the registration's own transaction (a refused one counts nothing)."""
    if not isinstance(login, str) or not LOGIN_RE.match(login) or verification.valid_phone(login):
        raise Invalid()
    password = _password(password)
    if not isinstance(question, str) or not isinstance(answer, str) or not question or not answer:
        raise Invalid()
    if len(question) > 255 or len(answer) > 128:
        raise Invalid()
    secret = passwords.hash_password(_sha1(password))
    answer_hash = passwords.hash_password(answer.strip().lower())

    per_day = current_app.config["FOOF_REGISTRATIONS_PER_IP_PER_DAY"]

    def work() -> int:
        if db.session.execute(select(UserProfile.uuid).where(UserProfile.login == login)).first():
            raise LoginTaken()
        if per_day and ip and ratelimit.take(REGISTER_KIND, ip, per_day, DAY) is None:
            raise RegistrationsExhausted()
        user = User(
            password=secret,
            username=login,
            phonenumber=PLACEHOLDER + secrets.token_hex(12),
            idcard="",
            studentid="0",
            address="",
            avatarurl=accounts.DEFAULT_AVATAR,
            verified=0,
            score=accounts.DEFAULT_SCORE,
            info=None,
        )
        db.session.add(user)
        db.session.flush()
        db.session.add(
            UserProfile(
                uuid=user.uuid,
                login=login,
                reset_question=question,
                reset_answer=answer_hash,
                role="3",
                identified="0",
                alias="",
                created_at=clock.now(),
            )
        )
        db.session.flush()
        after_commit(events.user_changed, user.uuid)
        return user.uuid

    try:
        return atomic(work)
    except IntegrityError:
        db.session.rollback()
        raise LoginTaken() from None


def _find(username: object) -> User:
    """The user for a real phone number (legacy accounts, and secondhand accounts that
    proved one) or else for a login name. A phone number wins: a login name that looks
    like one (allowed before such names were refused) cannot shadow the phone's owner."""
    return accounts.get(cards.find_user(username))


def _find_or_count(username: Any, kind: str = accounts.GUESS) -> User:
    """:func:`_find`; an unknown name spends one attempt of its own (so names cannot be
    tried without limit either) before :class:`UserNotFound`."""
    try:
        return _find(username)
    except UserNotFound:
        accounts.reserve_guess("name:" + username, kind)
        raise


#: What a login needs, in one statement: the account, its hash, and the name the reply shows.
_LOGIN = (
    select(User.uuid, User.password, User.phonenumber, UserProfile.uuid.label("profile"), UserProfile.login)
    .select_from(User)
    .outerjoin(UserProfile, UserProfile.uuid == User.uuid)
)


def login(username: Any, password: Any) -> tuple[int, str, str]:
    """``(uuid, name, session_id)`` after checking the password: guesses are limited per
    account, together with the legacy login and oldPassword (10 per 15 minutes), whichever
    name is used; ``name`` is the login name, else the phone number (what the reply shows).
    The session row is written in the transaction that ends the check, and must not survive
    a password change after the hash was read (:func:`foof.domain.sessions.start_in`). The
    account is found as
    :func:`_find` finds it (a phone number first), in one read with its hash and name."""
    if not isinstance(password, str) or not password:
        raise Invalid()
    if not isinstance(username, str) or not username or len(username) > 255:
        raise Invalid()
    row = None
    if verification.valid_phone(username):
        row = db.session.execute(_LOGIN.where(User.phonenumber == username)).first()
    if row is None:
        row = db.session.execute(_LOGIN.where(UserProfile.login == username)).first()
    if row is None:
        accounts.reserve_guess("name:" + username, accounts.GUESS)
        raise UserNotFound()
    started: list[str] = []
    accounts.check_password(
        row.uuid, row.password, _sha1(password), then=lambda issued: started.append(sessions.start_in(row.uuid, issued))
    )
    if row.profile is None:
        profile_of(row.uuid)  # an account from the legacy face gets its profile row
    return row.uuid, row.login or row.phonenumber, started[-1]


def change_password(uuid: int, old: Any, new: Any, keep_session: object = None) -> None:
    """PATCH /users/password: ``old`` is checked under the account's guess limit (shared with
    logins); on success every login token issued before ends, and every REST session but
    ``keep_session`` (the caller's)."""
    new = _password(new)
    user = accounts.get(uuid)
    accounts.check_password(uuid, user.password, _sha1(old if isinstance(old, str) else ""))
    secret = passwords.hash_password(_sha1(new))

    def work() -> None:
        db.session.execute(update(User).where(User.uuid == uuid).values(password=secret))
        accounts.password_changed(uuid, keep_session)

    atomic(work)


def reset_password(username: Any, answer: Any, new: Any) -> int:
    """The forgotten-password flow the seed left as TODO: answer the reset question. Wrong
    answers are limited per account (10 per 15 minutes), whether the account is named by
    its login or its phone number; a reset ends every session and login token."""
    new = _password(new)
    if not isinstance(answer, str) or not answer:
        raise Invalid()
    user = _find_or_count(username, RESET_KIND)
    uuid = user.uuid
    profile = db.session.get(UserProfile, uuid)
    if profile is None or not profile.reset_answer:
        raise UserNotFound()
    stored = profile.reset_answer
    event = accounts.reserve_guess(accounts.guess_subject(uuid), RESET_KIND)
    try:
        ok, _ = passwords.check(stored, answer.strip().lower())
    except passwords.HashBusy:
        atomic(ratelimit.give_back, event)  # nothing was checked: not a guess
        raise
    if not ok:
        raise WrongPassword()
    secret = passwords.hash_password(_sha1(new))

    def work() -> None:
        ratelimit.give_back(event)
        db.session.execute(update(User).where(User.uuid == uuid).values(password=secret))
        accounts.password_changed(uuid)

    atomic(work)
    return uuid


def profile_of(uuid: int) -> UserProfile | None:
    """The profile row, created on first use for accounts that came from the legacy face."""
    profile = db.session.get(UserProfile, uuid)
    if profile is None:

        def work() -> None:
            if db.session.get(UserProfile, uuid) is None:
                db.session.add(UserProfile(uuid=uuid, role="3", identified="0", alias=None, created_at=clock.now()))

        try:
            atomic(work)
        except IntegrityError:
            db.session.rollback()
        profile = db.session.get(UserProfile, uuid)
    return profile


def display_name(uuid: int) -> str | None:
    """The name shown for a person to others (seller/buyer): the alias when one is set, else
    the legacy username; None for a user who no longer exists."""
    user = db.session.get(User, uuid)
    if user is None:
        return None
    profile = db.session.get(UserProfile, uuid)
    return profile.alias if profile is not None and profile.alias else user.username


def _optional_text(value: Any, limit: int = 255) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dict, list, bool)):
        raise Invalid()
    value = str(value)
    if len(value) > limit:
        raise Invalid()
    return value


def update_detail(uuid: int, fields: Mapping[str, Any]) -> None:
    """Change the detail fields present; ``role``, ``identified``, ``studentCard`` and
    ``avatar`` are ignored (uploads and the server decide those).

    A ``phoneNumber`` other than the account's own must be proved: ``verifyCode`` is the
    SMS code sent to it by ``/user/requirecode``, checked by the rules of registration
    (:func:`verification.consume`: BadCode spends a try, NoLiveCode). The number is checked
    for another owner first, so a refused change does not use up the code. The same number
    as now (the app resends the whole form) needs no code."""
    user_values: dict[str, Any]
    profile_values: dict[str, Any]
    user_values, profile_values = {}, {}
    if "studentNumber" in fields:
        user_values["studentid"] = _optional_text(fields["studentNumber"]) or "0"
    if "description" in fields:
        user_values["info"] = _optional_text(fields["description"])
    if "phoneNumber" in fields:
        phone = fields["phoneNumber"]
        if phone not in (None, ""):
            phone = str(phone)
            if not verification.valid_phone(phone):
                raise Invalid()
            user_values["phonenumber"] = phone
    if "email" in fields:
        email = _optional_text(fields["email"])
        if email and not EMAIL_RE.match(email):
            raise Invalid()
        profile_values["email"] = email or None
    if "alias" in fields:
        profile_values["alias"] = _optional_text(fields["alias"])
    code = fields.get("verifyCode")
    profile_of(uuid)

    def work() -> None:
        if "phonenumber" in user_values:
            phone = user_values["phonenumber"]
            owner = db.session.execute(select(User.uuid).where(User.phonenumber == phone)).scalar()
            if owner is not None and owner != uuid:
                raise PhoneInUse()
            if owner is None:  # a new number for this account: prove it
                if code in (None, ""):
                    raise NoLiveCode()  # no code sent: refused without spending a try
                verification.consume(phone, code)
            else:
                del user_values["phonenumber"]
        if user_values:
            db.session.execute(update(User).where(User.uuid == uuid).values(**user_values))
        db.session.execute(
            update(UserProfile).where(UserProfile.uuid == uuid).values(updated_at=clock.now(), **profile_values)
        )
        after_commit(events.user_changed, uuid)

    try:
        atomic(work)
    except IntegrityError:
        db.session.rollback()
        raise PhoneInUse() from None


def upload_root() -> str:
    return current_app.config["FOOF_UPLOAD_ROOT"]


def store_upload(data: bytes, prefix: str = "") -> str:
    """Validate and re-encode an upload into ``upload/``; returns its relative path."""
    jpeg = media.reencode(data, media.ITEM_SIDE)
    name = f"{prefix}{uuidlib.uuid4()}.jpg"
    media.write_atomic(upload_root(), name, jpeg)
    return name


def set_avatar(uuid: int, data: bytes) -> str:
    name = store_upload(data)
    old = accounts.get(uuid).avatarurl

    def work() -> None:
        db.session.execute(update(User).where(User.uuid == uuid).values(avatarurl="upload/" + name))
        if old.startswith("upload/"):
            after_commit(media.remove_quietly, upload_root(), [old[len("upload/") :]])

    atomic(work)
    return "/upload/" + name


def set_student_card(uuid: int, data: bytes) -> str:
    name = store_upload(data, "student/")
    old = profile_of(uuid).student_card  # type: ignore[union-attr]  # None only if deleted meanwhile

    def work() -> None:
        db.session.execute(
            update(UserProfile).where(UserProfile.uuid == uuid).values(student_card=name, updated_at=clock.now())
        )
        cards.card_uploaded(uuid, name)  # into the staff's queue (issue #15)
        if old:
            after_commit(media.remove_quietly, upload_root(), [old])

    atomic(work)
    return "/upload/" + name
