"""Password hashing.

The legacy client sends the lowercase SHA-1 hex of what the person typed; that string is
the "password" here and is hashed with werkzeug (salted, slow). A row from an old database
that holds the bare string is accepted once and re-hashed (see :func:`check`).
"""

from __future__ import annotations

import hmac

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

_METHODS = ("scrypt:", "pbkdf2:")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["FOOF_PASSWORD_HASH_METHOD"])


def is_hashed(stored: str) -> bool:
    return stored.startswith(_METHODS) and stored.count("$") == 2


def check(stored: str, password: str) -> tuple[bool, str | None]:
    """``(ok, new_hash)``: ``new_hash`` is set when a legacy clear-text row must be upgraded."""
    if is_hashed(stored):
        return check_password_hash(stored, password), None
    ok = hmac.compare_digest(stored.encode("utf-8"), password.encode("utf-8"))
    return ok, (hash_password(password) if ok else None)
