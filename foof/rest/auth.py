"""Who is calling the secondhand face: the signed session cookie, or a legacy Bearer token."""
from flask import request, session

from foof.domain import accounts
from foof.domain.errors import BadToken, UserNotFound

SESSION_KEY = "uid"


def current_user():
    """The logged-in user, or :class:`BadToken` (rendered as 4003, HTTP 401)."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return accounts.from_login_token(header[7:].strip())
    uuid = session.get(SESSION_KEY)
    if uuid is None:
        raise BadToken()
    try:
        return accounts.get(uuid)
    except UserNotFound:
        session.pop(SESSION_KEY, None)
        raise BadToken() from None


def log_in(uuid):
    session.clear()
    session[SESSION_KEY] = int(uuid)
    session.permanent = True


def log_out():
    session.clear()
