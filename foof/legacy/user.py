"""Legacy ``/user`` routes (docs/legacy-wire.md §5)."""

import html

from flask import Blueprint, current_app, request

from foof.domain import accounts, listings, mailverify, moderation, tokens, verification
from foof.domain.errors import (
    AccountDisabled,
    BadCode,
    BadToken,
    Invalid,
    NoLiveCode,
    NotAnImage,
    PhoneTaken,
    SendFailed,
    TooFrequent,
    UserNotFound,
    WrongPassword,
)
from foof.legacy import render, schemas
from foof.legacy.wire import INVALID, field, fields, route, uploaded_files

bp = Blueprint("legacy_user", __name__)

FAILURE = {"status": "failure"}
TOO_FREQUENT = {"status": "failure", "info": "request too frequent"}
SUCCESS = {"status": "success"}
CODE_ERRORS = {
    Invalid: INVALID,
    NoLiveCode: INVALID,
    BadCode: {"status": "failure", "info": "bad verify code"},
}


@route(bp, "/user/<uuid>", methods=("GET",), errors={UserNotFound: {"status": "failure", "info": "no such user"}})
def public(uuid):
    return schemas.public_user(accounts.view(uuid), status="success")


@route(bp, "/user/me", auth=True)
def me(user):
    return schemas.own_user(user, status="success")


@route(bp, "/user/published", errors={Invalid: FAILURE})
def published():
    return [schemas.item(entry) for entry in listings.published_by(field("uuid"))]


@route(bp, "/user/finished", auth=True)
def finished(user):
    return [schemas.item(entry) for entry in listings.reserved_for(user.uuid)]


@route(
    bp,
    "/user/login",
    errors={
        Invalid: {"status": "failure", "info": "bad request"},
        UserNotFound: {"status": "failure", "info": "user not found"},
        WrongPassword: {"status": "failure", "info": "password incorrect"},
        AccountDisabled: {"status": "failure", "info": "account disabled"},
        TooFrequent: TOO_FREQUENT,
    },
)
def login():
    user, token = accounts.login(field("phonenumber"), field("password"))
    return {"status": "success", "info": schemas.own_user(user), "token": token}


@route(
    bp,
    "/user/register",
    errors={**CODE_ERRORS, PhoneTaken: {"status": "failure", "info": "phone number already token"}},
)
def register():
    accounts.register(field("phonenumber"), field("verifycode"), field("password"))
    return SUCCESS


@route(bp, "/user/reset", errors=CODE_ERRORS)
def reset():
    accounts.reset_password(field("phonenumber"), field("verifycode"), field("password"))
    return SUCCESS


@route(
    bp,
    "/user/requirecode",
    errors={
        Invalid: INVALID,
        TooFrequent: TOO_FREQUENT,
        SendFailed: {"status": "server error"},
    },
)
def requirecode():
    phonenumber = field("phonenumber")
    sms = current_app.extensions["foof.senders"][0]
    code = verification.request_code(phonenumber, request.remote_addr, sms)
    data = {"id": phonenumber}
    if current_app.config["FOOF_ECHO_VERIFY_CODE"]:
        data["code"] = code  # demo only: the old server leaked the code like this
    return {"status": "success", "data": data}


@route(bp, "/user/avatar", auth=True, errors={NotAnImage: INVALID})
def avatar(user):
    files = [f for f in uploaded_files() if f.name == "file"] or uploaded_files()
    if not files:
        raise NotAnImage()
    accounts.set_avatar(user.uuid, files[0].read())
    return SUCCESS


@route(bp, "/user/modify", auth=True, errors={Invalid: {"status": "false"}})
def modify(user):
    accounts.modify(user.uuid, fields())
    return SUCCESS


@route(
    bp,
    "/user/mail/verify",
    auth=True,
    errors={
        Invalid: INVALID,
        TooFrequent: TOO_FREQUENT,
        SendFailed: {"status": "server error"},
    },
)
def mail_verify(user):
    mail = current_app.extensions["foof.senders"][1]
    mailverify.request(user.uuid, field("idcard"), mail)
    return SUCCESS


def _wants_html():
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html" and request.accept_mimetypes["text/html"] > request.accept_mimetypes["application/json"]


@bp.route("/user/mail/verify/<path:token>", methods=("GET", "POST"))
def mail_confirm(token):
    """The mailed link. A browser (``Accept`` prefers HTML) gets a page whose button POSTs to
    this same URL, so a mail scanner opening the link confirms nothing; the POST confirms.
    A GET asking for JSON (or for nothing in particular) keeps the contract's answer and
    confirms. HEAD only looks."""
    wants_html = _wants_html()
    if request.method == "POST":
        return _confirm_reply(token, wants_html)
    if wants_html or request.method == "HEAD":
        try:
            _not_disabled(token)
            user, mailbox = mailverify.preview(token)
        except BadToken:
            return _page(FAILED_TEXT) if wants_html else render.reply(INVALID)
        return _page(_confirm_form(user, mailbox)) if wants_html else render.reply(SUCCESS)
    return _confirm_reply(token, wants_html)


FAILED_TEXT = "<p>链接无效或已过期，请重新申请认证邮件。</p>"
DONE_TEXT = "<p>邮箱认证成功！现在可以回到东大杂货铺继续使用了。</p>"
PAGE_HEADERS = {
    # Nothing but this inline style may load; the form may only post back here; no framing
    # (no clickjacking of the button); the URL holds the token: never sent on, never cached.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}
PAGE_STYLE = (
    "body{font-family:sans-serif;max-width:32em;margin:2em auto;padding:0 1em;line-height:1.6}"
    "button{font-size:1.1em;padding:.6em 1.6em;margin-top:.5em}"
)


def _not_disabled(token):
    """A link mailed before its account was disabled verifies nothing while the block lasts
    (:class:`BadToken`, answered as any unusable link); it works again once enabled."""
    uuid, _ = tokens.read_mail_token(token)
    if isinstance(uuid, int) and 0 < uuid < 2**31 and moderation.is_disabled(uuid):
        raise BadToken()


def _confirm_reply(token, wants_html):
    try:
        _not_disabled(token)
        mailverify.confirm(token)
    except BadToken:
        return _page(FAILED_TEXT) if wants_html else render.reply(INVALID)
    return _page(DONE_TEXT) if wants_html else render.reply(SUCCESS)


def _confirm_form(user, mailbox):
    """The confirm button. The form has no ``action``: it posts to the page's own URL, so the
    token is never written into the page."""
    name = html.escape(str(user.username or ""))
    box = html.escape(mailbox)
    return (
        f"<p>确认将东大杂货铺账号「{name}」认证为校园邮箱 <strong>{box}</strong> 吗？</p>"
        '<form method="post"><button type="submit">确认认证</button></form>'
        "<p>如果这不是你本人申请的，请不要点击，直接关闭本页即可。</p>"
    )


def _page(content):
    reply = render.html(
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>东大杂货铺 · 邮箱认证</title><style>{PAGE_STYLE}</style></head><body>{content}</body></html>"
    )
    reply.headers.update(PAGE_HEADERS)
    return reply
