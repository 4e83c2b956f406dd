"""Who is calling the secondhand face: the session cookie, or a legacy Bearer token.

The cookie is Flask's signed, HttpOnly session holding a session id; the id must still
exist server-side (``web_sessions``), so logging out really ends it.
"""

from flask import request, session

from foof.domain import accounts, sessions
from foof.domain.errors import BadToken, UserNotFound

SESSION_KEY = "sid"


def current_user():
    """The logged-in user, or :class:`BadToken` (rendered as 4003, HTTP 401)."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return accounts.from_login_token(header[7:].strip())
    uuid = sessions.owner(session.get(SESSION_KEY))
    if uuid is None:
        session.clear()
        raise BadToken()
    try:
        return accounts.get(uuid)
    except UserNotFound:
        session.clear()
        raise BadToken() from None


def current_session():
    return session.get(SESSION_KEY)


def use_session(sid):
    """The cookie carries ``sid`` (a session row already written) from now on."""
    session.clear()
    session[SESSION_KEY] = sid
    session.permanent = True


def log_out():
    sessions.end(session.get(SESSION_KEY))
    session.clear()
