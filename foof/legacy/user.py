"""Legacy ``/user`` routes (CONTRACT 1.5 "Users")."""
from flask import Blueprint, current_app, request

from foof.domain import accounts, listings, mailverify, verification
from foof.domain.errors import (
    BadCode, BadToken, Invalid, NoLiveCode, NotAnImage, PhoneTaken, SendFailed, TooFrequent,
    UserNotFound, WrongPassword,
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


@route(bp, "/user/login", errors={
    Invalid: {"status": "failure", "info": "bad request"},
    UserNotFound: {"status": "failure", "info": "user not found"},
    WrongPassword: {"status": "failure", "info": "password incorrect"},
    TooFrequent: TOO_FREQUENT,
})
def login():
    user, token = accounts.login(field("phonenumber"), field("password"))
    return {"status": "success", "info": schemas.own_user(user), "token": token}


@route(bp, "/user/register", errors={**CODE_ERRORS, PhoneTaken: {"status": "failure", "info": "phone number already token"}})
def register():
    accounts.register(field("phonenumber"), field("verifycode"), field("password"))
    return SUCCESS


@route(bp, "/user/reset", errors=CODE_ERRORS)
def reset():
    accounts.reset_password(field("phonenumber"), field("verifycode"), field("password"))
    return SUCCESS


@route(bp, "/user/requirecode", errors={
    Invalid: INVALID, TooFrequent: TOO_FREQUENT, SendFailed: {"status": "server error"},
})
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


@route(bp, "/user/mail/verify", auth=True, errors={
    Invalid: INVALID, TooFrequent: TOO_FREQUENT, SendFailed: {"status": "server error"},
})
def mail_verify(user):
    mail = current_app.extensions["foof.senders"][1]
    mailverify.request(user.uuid, field("idcard"), mail)
    return SUCCESS


def _wants_html():
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html" and request.accept_mimetypes["text/html"] > request.accept_mimetypes["application/json"]


@bp.get("/user/mail/verify/<path:token>")
def mail_confirm(token):
    try:
        mailverify.confirm(token)
    except BadToken:
        if _wants_html():
            return render.html(_page("链接无效或已过期，请重新申请认证邮件。"))
        return render.reply(INVALID)
    if _wants_html():
        return render.html(_page("邮箱认证成功！现在可以回到东大杂货铺继续使用了。"))
    return render.reply(SUCCESS)


def _page(message):
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>东大杂货铺</title></head><body><p>{message}</p></body></html>"
    )
