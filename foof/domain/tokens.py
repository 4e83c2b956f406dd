"""Login and mail tokens, compatible with the old server's (docs/legacy-wire.md §3).

Tokens are minted with PyJWT directly because flask-jwt-extended always adds ``fresh``,
``jti`` and ``type`` and puts its own claims first; the legacy payload is exactly
``{"uuid","generate","iat"}`` (+ ``exp``). Verification goes through flask-jwt-extended's
``decode_token`` (secret, algorithm, identity claim ``uuid`` and leeway configured in the
factory), which accepts old tokens that lack ``exp``/``type``/``jti``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

import jwt as pyjwt
from flask import current_app
from flask_jwt_extended import decode_token

from foof.domain.errors import BadToken

MAIL_TOKEN_SECONDS = 1800
#: Verified login tokens, so the app's polling (fetchnew every few seconds) does not pay for
#: two JWT decodes per request. Keyed by (secret, token): a new secret invalidates them all;
#: the expiry is still checked on every hit; the user's existence and the last password
#: change (a token issued before it is refused) by the caller, on every request, from the
#: one read it does anyway: so a cached token is never let through after a change.
_VERIFIED: OrderedDict[tuple[str, str], tuple[int, Any, int]] = OrderedDict()
_VERIFIED_MAX = 4096
_verified_lock = threading.Lock()


def now_ms() -> int:
    """The time in the unit of the ``generate`` claim (and of ``credentials.password_changed_ms``)."""
    return int(time.time() * 1000)


def _mint(
    uuid: int,
    ttl_seconds: float | None = None,
    not_before_ms: int | None = 0,
    generate_ms: int | None = None,
    **extra: Any,
) -> str:
    now = time.time()
    generate = max(int(now * 1000), int(not_before_ms or 0)) if generate_ms is None else int(generate_ms)
    payload: dict[str, Any] = {"uuid": int(uuid), "generate": generate, "iat": int(now)}
    payload.update(extra)
    if ttl_seconds:
        payload["exp"] = int(now) + int(ttl_seconds)
    return pyjwt.encode(payload, current_app.config["JWT_SECRET_KEY"], algorithm="HS256")


def login_token(uuid: int, not_before_ms: int | None = 0, generate_ms: int | None = None) -> str:
    """A login token; its ``generate`` is at least ``not_before_ms`` (the account's last
    password change), so a login right after a change, in the same millisecond, is valid —
    or exactly ``generate_ms``: the moment the password it was earned with was read, so a
    change that came during the check refuses it."""
    days = current_app.config["FOOF_TOKEN_TTL_DAYS"]
    return _mint(uuid, days * 86400 if days else None, not_before_ms, generate_ms)


def mail_token(uuid: int, idcard: str) -> str:
    return _mint(uuid, MAIL_TOKEN_SECONDS, useage="mail", idcard=idcard)


def _decode(token: object) -> dict[str, Any]:
    if not isinstance(token, str) or not token or len(token) > 4096:
        raise BadToken()
    try:
        claims = decode_token(token)
    except Exception as exc:  # every library failure means the same thing: not a valid token
        raise BadToken() from exc
    uuid = claims.get("uuid")
    if not isinstance(uuid, int) or isinstance(uuid, bool):
        raise BadToken()
    return claims


def _generate(claims: dict[str, Any]) -> int:
    """The token's issue time in ms; 0 when missing or not a number (an odd old token: it is
    then refused as soon as the account has a recorded password change)."""
    value = claims.get("generate")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return 0
    try:
        return int(value)
    except (OverflowError, ValueError):
        return 0


def read_login_claims(token: object) -> tuple[int, int]:
    """``(uuid, generate)`` of a login token; mail tokens are refused here. The caller must
    compare ``generate`` with the account's password-change time (``accounts``)."""
    if not isinstance(token, str):  # a JSON array or object cannot be a dict key: refuse first
        raise BadToken()
    key = (current_app.config["JWT_SECRET_KEY"], token)
    with _verified_lock:
        hit = _VERIFIED.get(key)
    if hit is not None:
        uuid, expires, generate = hit
        if expires is None or expires > time.time():
            return uuid, generate
    claims = _decode(token)
    if "useage" in claims:
        raise BadToken()
    generate = _generate(claims)
    with _verified_lock:
        _VERIFIED[key] = (claims["uuid"], claims.get("exp"), generate)
        while len(_VERIFIED) > _VERIFIED_MAX:
            _VERIFIED.popitem(last=False)
    return claims["uuid"], generate


def issued_before(generate: int, changed_ms: int | None) -> bool:
    """Whether a token issued at ``generate`` predates the password change ``changed_ms``
    (None: the password never changed since the credentials table exists)."""
    return changed_ms is not None and generate < changed_ms


def read_mail_token(token: object) -> tuple[int, Any]:
    """``(uuid, idcard)`` of a mail-verification token; login tokens are refused here."""
    claims = _decode(token)
    if claims.get("useage") != "mail" or "exp" not in claims:
        raise BadToken()
    return claims["uuid"], claims.get("idcard")
