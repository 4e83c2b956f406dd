"""Login and mail tokens, compatible with the old server's (CONTRACT 1.3).

Tokens are minted with PyJWT directly because flask-jwt-extended always adds ``fresh``,
``jti`` and ``type`` and puts its own claims first; the legacy payload is exactly
``{"uuid","generate","iat"}`` (+ ``exp``). Verification goes through flask-jwt-extended's
``decode_token`` (secret, algorithm, identity claim ``uuid`` and leeway configured in the
factory), which accepts old tokens that lack ``exp``/``type``/``jti``.
"""
import threading
import time
from collections import OrderedDict

import jwt as pyjwt
from flask import current_app
from flask_jwt_extended import decode_token

from foof.domain.errors import BadToken

MAIL_TOKEN_SECONDS = 1800
#: Verified login tokens, so the app's polling (fetchnew every few seconds) does not pay for
#: two JWT decodes per request. Keyed by (secret, token): a new secret invalidates them all;
#: the expiry is still checked on every hit, and the user's existence by the caller.
_VERIFIED = OrderedDict()
_VERIFIED_MAX = 4096
_verified_lock = threading.Lock()


def _mint(uuid, ttl_seconds=None, **extra):
    now = time.time()
    payload = {"uuid": int(uuid), "generate": int(now * 1000), "iat": int(now)}
    payload.update(extra)
    if ttl_seconds:
        payload["exp"] = int(now) + int(ttl_seconds)
    return pyjwt.encode(payload, current_app.config["JWT_SECRET_KEY"], algorithm="HS256")


def login_token(uuid):
    days = current_app.config["FOOF_TOKEN_TTL_DAYS"]
    return _mint(uuid, days * 86400 if days else None)


def mail_token(uuid, idcard):
    return _mint(uuid, MAIL_TOKEN_SECONDS, useage="mail", idcard=idcard)


def _decode(token):
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


def read_login_token(token):
    """The uuid a login token speaks for; mail tokens are refused here."""
    if not isinstance(token, str):  # a JSON array or object cannot be a dict key: refuse first
        raise BadToken()
    key = (current_app.config["JWT_SECRET_KEY"], token)
    with _verified_lock:
        hit = _VERIFIED.get(key)
    if hit is not None:
        uuid, expires = hit
        if expires is None or expires > time.time():
            return uuid
    claims = _decode(token)
    if "useage" in claims:
        raise BadToken()
    with _verified_lock:
        _VERIFIED[key] = (claims["uuid"], claims.get("exp"))
        while len(_VERIFIED) > _VERIFIED_MAX:
            _VERIFIED.popitem(last=False)
    return claims["uuid"]


def read_mail_token(token):
    """``(uuid, idcard)`` of a mail-verification token; login tokens are refused here."""
    claims = _decode(token)
    if claims.get("useage") != "mail" or "exp" not in claims:
        raise BadToken()
    return claims["uuid"], claims.get("idcard")
