"""Accounts: registration, login, password reset, profile changes and avatars."""
import logging

from flask import current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError

from foof.domain import events, media, passwords, ratelimit, reads, tokens, verification
from foof.domain.errors import (
    BadToken, Invalid, PhoneTaken, TooFrequent, UserNotFound, WrongPassword,
)
from foof.domain.tx import after_commit, atomic
from foof.domain.values import parse_text
from foof.extensions import db
from foof.models import User

log = logging.getLogger(__name__)

DEFAULT_USERNAME = "新手咸鱼人员"
# U+FF1E U+FE3F U+FF1C: the seed's ">^<" is an OCR reading of these.
DEFAULT_INFO = "这家伙很懒，什么都没有写＞︿＜"
DEFAULT_AVATAR = "image/avatar/default.jpg"
DEFAULT_SCORE = 10
LOGIN_FAILURES = 10
LOGIN_WINDOW = 15 * 60
#: Fields /user/modify may change; verified, score, phonenumber, avatarurl never.
MODIFIABLE = ("username", "password", "idcard", "studentid", "address", "info")


def _uuid(value):
    try:
        uuid = int(value)
    except (TypeError, ValueError):
        raise UserNotFound() from None
    if not -2**31 <= uuid < 2**31:
        raise UserNotFound()
    return uuid


def get(uuid):
    """The user with this uuid (int or digit string), or :class:`UserNotFound`."""
    user = db.session.get(User, _uuid(uuid))
    if user is None:
        raise UserNotFound()
    return user


#: Built once (every token route runs it): building a select costs more than running it.
_VIEW = select(User.__table__).where(User.__table__.c.uuid == bindparam("uuid"))


def view(uuid):
    """A read-only row of the user (Core select: about half the cost of an ORM load, and
    every token route pays it), or :class:`UserNotFound`. Attributes as on ``User``."""
    found = reads.first(_VIEW, {"uuid": _uuid(uuid)})
    if found is None:
        raise UserNotFound()
    return found


def token_uuid(token):
    """The uuid a valid login token names (the account is not looked up), or :class:`BadToken`."""
    try:
        return _uuid(tokens.read_login_token(token))
    except UserNotFound:
        raise BadToken() from None


def from_login_token(token):
    """The user (a read-only row) a login token speaks for; :class:`BadToken` for anything else."""
    try:
        return view(token_uuid(token))
    except UserNotFound:
        raise BadToken() from None


def _new_user(phonenumber, password_hash):
    return User(
        password=password_hash, username=DEFAULT_USERNAME, phonenumber=phonenumber,
        idcard="", studentid="0", address="", avatarurl=DEFAULT_AVATAR, verified=0,
        score=DEFAULT_SCORE, info=DEFAULT_INFO,
    )


def _require_password(password):
    if not isinstance(password, str) or password == "" or len(password) > 255:
        raise Invalid()


def _phone_taken(phonenumber):
    return db.session.execute(
        select(User.uuid).where(User.phonenumber == phonenumber)
    ).first() is not None


def register(phonenumber, code, password):
    """Create an account after checking the SMS code. Only these three inputs are read."""
    if not verification.valid_phone(phonenumber):
        raise Invalid()
    _require_password(password)
    password_hash = passwords.hash_password(password)

    def work():
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


def create_user(phonenumber, password):
    """For admins and demos (``flask create-user``): no SMS code needed."""
    if not verification.valid_phone(phonenumber):
        raise Invalid()
    _require_password(password)

    def work():
        if _phone_taken(phonenumber):
            raise PhoneTaken()
        user = _new_user(phonenumber, passwords.hash_password(password))
        db.session.add(user)
        db.session.flush()
        after_commit(events.user_changed, user.uuid)
        return user.uuid

    return atomic(work)


def reset_password(phonenumber, code, password):
    if not verification.valid_phone(phonenumber):
        raise Invalid()
    _require_password(password)
    password_hash = passwords.hash_password(password)

    def work():
        uuid = db.session.execute(
            select(User.uuid).where(User.phonenumber == phonenumber)
        ).scalar()
        if uuid is None:
            raise Invalid()
        verification.consume(phonenumber, code)
        db.session.execute(update(User).where(User.uuid == uuid).values(password=password_hash))
        return uuid

    uuid = atomic(work)
    log.info("user %s reset the password", uuid)


def login(phonenumber, password):
    """``(user, token)``; failures are counted per phone number against a 15-minute limit."""
    if not isinstance(phonenumber, str) or not isinstance(password, str):
        raise Invalid()
    if not phonenumber or not password or len(phonenumber) > 255:
        raise Invalid()
    if ratelimit.count("login:fail", phonenumber, LOGIN_WINDOW) >= LOGIN_FAILURES:
        raise TooFrequent()
    # "~…" is the placeholder of accounts made on the secondhand face: never a legacy login.
    user = None if phonenumber.startswith("~") else db.session.execute(
        select(User).where(User.phonenumber == phonenumber)).scalar()
    if user is None:
        atomic(ratelimit.record, "login:fail", phonenumber)
        raise UserNotFound()
    ok, upgraded = passwords.check(user.password, password)
    if not ok:
        atomic(ratelimit.record, "login:fail", phonenumber)
        raise WrongPassword()
    uuid = user.uuid
    if upgraded:
        atomic(lambda: db.session.execute(
            update(User).where(User.uuid == uuid).values(password=upgraded)))
        log.info("user %s: legacy clear-text password re-hashed", uuid)
    return get(uuid), tokens.login_token(uuid)


def modify(uuid, fields):
    """Change the profile fields present in ``fields``; absent ones stay as they are.

    An empty ``password`` counts as absent: browser forms send every input, and an empty
    password could never log in again (the documented way is to omit the field).
    """
    values = {}
    for name in MODIFIABLE:
        if name in fields:
            values[name] = parse_text(fields[name])
    if values.get("password") == "":
        del values["password"]
    elif "password" in values:
        values["password"] = passwords.hash_password(values["password"])
    if values:
        def work():
            db.session.execute(update(User).where(User.uuid == uuid).values(**values))
            after_commit(events.user_changed, uuid)

        atomic(work)


def set_avatar(uuid, data):
    """Validate and re-encode ``data``, write it atomically, then point ``avatarurl`` at it."""
    jpeg = media.reencode(data, media.AVATAR_SIDE)
    relative = f"avatar/{int(uuid)}.jpg"
    media.write_atomic(current_app.config["FOOF_MEDIA_ROOT"], relative, jpeg)
    url = "image/" + relative
    atomic(lambda: db.session.execute(update(User).where(User.uuid == uuid).values(avatarurl=url)))
    return url
