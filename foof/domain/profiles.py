"""Secondhand accounts: a ``users`` row plus a ``user_profiles`` row (CONTRACT 3).

Passwords are stored exactly as the legacy face stores them — werkzeug's hash of the SHA-1
hex of what the person typed — so once an account has a phone number the same password
works in the legacy app too. An account created here holds a reserved placeholder in
``users.phonenumber`` (``~`` + random hex) that no legacy login can ever match.
"""
import hashlib
import re
import secrets
import uuid as uuidlib

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from foof.domain import accounts, clock, events, media, passwords, ratelimit, verification
from foof.domain.errors import DomainError, Invalid, TooFrequent, UserNotFound, WrongPassword
from foof.domain.tx import after_commit, atomic
from foof.extensions import db
from foof.models import User, UserProfile

PLACEHOLDER = "~"
LOGIN_RE = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,20}$")
#: Fields POST /users/detail may change; role and identified are the server's decision.
DETAIL_FIELDS = ("studentNumber", "phoneNumber", "email", "alias", "description")


class LoginTaken(DomainError):
    """4000: the login name is in use."""


class PhoneInUse(DomainError):
    pass


def _sha1(text):
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def is_placeholder(phonenumber):
    return phonenumber.startswith(PLACEHOLDER)


def _password(value, minimum=6):
    if not isinstance(value, str) or not minimum <= len(value) <= 128:
        raise Invalid()
    return value


def register(login, password, question, answer):
    if not isinstance(login, str) or not LOGIN_RE.match(login):
        raise Invalid()
    password = _password(password)
    if not isinstance(question, str) or not isinstance(answer, str) or not question or not answer:
        raise Invalid()
    if len(question) > 255 or len(answer) > 128:
        raise Invalid()
    secret = passwords.hash_password(_sha1(password))
    answer_hash = passwords.hash_password(answer.strip().lower())

    def work():
        if db.session.execute(select(UserProfile.uuid).where(UserProfile.login == login)).first():
            raise LoginTaken()
        user = User(
            password=secret, username=login, phonenumber=PLACEHOLDER + secrets.token_hex(12),
            idcard="", studentid="0", address="", avatarurl=accounts.DEFAULT_AVATAR, verified=0,
            score=accounts.DEFAULT_SCORE, info=None,
        )
        db.session.add(user)
        db.session.flush()
        db.session.add(UserProfile(uuid=user.uuid, login=login, reset_question=question,
                                   reset_answer=answer_hash, role="3", identified="0",
                                   alias="", created_at=clock.now()))
        db.session.flush()
        after_commit(events.user_changed, user.uuid)
        return user.uuid

    try:
        return atomic(work)
    except IntegrityError:
        db.session.rollback()
        raise LoginTaken() from None


def _find(username):
    """The user for a login name, or for a real phone number (legacy accounts)."""
    if not isinstance(username, str) or not username or len(username) > 255:
        raise Invalid()
    uuid = db.session.execute(select(UserProfile.uuid).where(UserProfile.login == username)).scalar()
    if uuid is None and verification.valid_phone(username):
        uuid = db.session.execute(select(User.uuid).where(User.phonenumber == username)).scalar()
    if uuid is None:
        raise UserNotFound()
    return accounts.get(uuid)


def _limited(key):
    if ratelimit.count("login:fail", key, accounts.LOGIN_WINDOW) >= accounts.LOGIN_FAILURES:
        raise TooFrequent()


def login(username, password):
    """The user, after checking the password (failures limited as legacy logins are)."""
    if not isinstance(password, str) or not password:
        raise Invalid()
    _limited(str(username))
    try:
        user = _find(username)
    except UserNotFound:
        atomic(ratelimit.record, "login:fail", str(username)[:255])
        raise
    ok, upgraded = passwords.check(user.password, _sha1(password))
    if not ok:
        atomic(ratelimit.record, "login:fail", username)
        raise WrongPassword()
    uuid = user.uuid
    if upgraded:
        atomic(lambda: db.session.execute(update(User).where(User.uuid == uuid).values(password=upgraded)))
    return accounts.get(uuid)


def change_password(uuid, old, new):
    new = _password(new)
    user = accounts.get(uuid)
    ok, _ = passwords.check(user.password, _sha1(old if isinstance(old, str) else ""))
    if not ok:
        raise WrongPassword()
    secret = passwords.hash_password(_sha1(new))
    atomic(lambda: db.session.execute(update(User).where(User.uuid == uuid).values(password=secret)))


def reset_password(username, answer, new):
    """The forgotten-password flow the seed left as TODO: answer the reset question."""
    new = _password(new)
    if not isinstance(answer, str) or not answer:
        raise Invalid()
    key = f"reset:{username}"
    _limited(key)
    user = _find(username)
    profile = db.session.get(UserProfile, user.uuid)
    if profile is None or not profile.reset_answer:
        raise UserNotFound()
    ok, _ = passwords.check(profile.reset_answer, answer.strip().lower())
    if not ok:
        atomic(ratelimit.record, "login:fail", key)
        raise WrongPassword()
    secret = passwords.hash_password(_sha1(new))
    uuid = user.uuid
    atomic(lambda: db.session.execute(update(User).where(User.uuid == uuid).values(password=secret)))
    return uuid


def profile_of(uuid):
    """The profile row, created on first use for accounts that came from the legacy face."""
    profile = db.session.get(UserProfile, uuid)
    if profile is None:
        def work():
            if db.session.get(UserProfile, uuid) is None:
                db.session.add(UserProfile(uuid=uuid, role="3", identified="0", alias=None,
                                           created_at=clock.now()))

        try:
            atomic(work)
        except IntegrityError:
            db.session.rollback()
        profile = db.session.get(UserProfile, uuid)
    return profile


def display_name(uuid):
    """The name shown for a person to others (seller/buyer): the alias when one is set, else
    the legacy username; None for a user who no longer exists."""
    user = db.session.get(User, uuid)
    if user is None:
        return None
    profile = db.session.get(UserProfile, uuid)
    return profile.alias if profile is not None and profile.alias else user.username


def _optional_text(value, limit=255):
    if value is None:
        return None
    if isinstance(value, (dict, list, bool)):
        raise Invalid()
    value = str(value)
    if len(value) > limit:
        raise Invalid()
    return value


def update_detail(uuid, fields):
    """Change the detail fields present; ``role``, ``identified``, ``studentCard`` and
    ``avatar`` are ignored (uploads and the server decide those)."""
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
    profile_of(uuid)

    def work():
        if "phonenumber" in user_values:
            owner = db.session.execute(
                select(User.uuid).where(User.phonenumber == user_values["phonenumber"])).scalar()
            if owner is not None and owner != uuid:
                raise PhoneInUse()
        if user_values:
            db.session.execute(update(User).where(User.uuid == uuid).values(**user_values))
        db.session.execute(update(UserProfile).where(UserProfile.uuid == uuid)
                           .values(updated_at=clock.now(), **profile_values))
        after_commit(events.user_changed, uuid)

    try:
        atomic(work)
    except IntegrityError:
        db.session.rollback()
        raise PhoneInUse() from None


def upload_root():
    return current_app.config["FOOF_UPLOAD_ROOT"]


def store_upload(data, prefix=""):
    """Validate and re-encode an upload into ``upload/``; returns its relative path."""
    jpeg = media.reencode(data, media.ITEM_SIDE)
    name = f"{prefix}{uuidlib.uuid4()}.jpg"
    media.write_atomic(upload_root(), name, jpeg)
    return name


def set_avatar(uuid, data):
    name = store_upload(data)
    old = accounts.get(uuid).avatarurl

    def work():
        db.session.execute(update(User).where(User.uuid == uuid).values(avatarurl="upload/" + name))
        if old.startswith("upload/"):
            after_commit(media.remove_quietly, upload_root(), [old[len("upload/"):]])

    atomic(work)
    return "/upload/" + name


def set_student_card(uuid, data):
    name = store_upload(data, "student/")
    old = profile_of(uuid).student_card

    def work():
        db.session.execute(update(UserProfile).where(UserProfile.uuid == uuid)
                           .values(student_card=name, updated_at=clock.now()))
        if old:
            after_commit(media.remove_quietly, upload_root(), [old])

    atomic(work)
    return "/upload/" + name
