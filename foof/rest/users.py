"""``/users``: register, sessions, passwords, detail, avatar and student card (seed 004)."""

import posixpath

from flask import Blueprint, abort, current_app, request, send_from_directory

from foof.domain import accounts, cards, profiles
from foof.domain.errors import BadCode, BadToken, NoLiveCode
from foof.rest import auth
from foof.rest.envelope import Refused, handled, moment, user_id
from foof.rest.wire import payload, upload_bytes

bp = Blueprint("rest_users", __name__)
UPLOAD_ENDPOINTS = ("rest_users.avatar", "rest_users.student_card")
#: A new phone number without a valid SMS code for it (none asked, expired, used, burned
#: after 5 wrong tries, or wrong): input error 4005 with its own message.
BAD_CODE = (4005, "手机验证码错误或已失效")
#: FOOF_REGISTRATIONS_PER_IP_PER_DAY reached: the "too many attempts" state, its own message.
TOO_MANY_REGISTRATIONS = (4002, "注册次数过多，请24小时后再试")


def _avatar_url(user):
    url = user.avatarurl or ""
    return "/" if not url or url == accounts.DEFAULT_AVATAR else "/" + url.lstrip("/")


def detail_of(user):
    profile = profiles.profile_of(user.uuid)
    studentid = user.studentid if user.studentid not in ("", "0", None) else None
    state, reason = cards.wire_review(user.uuid)
    return {
        "id": user_id(user.uuid),
        "studentNumber": studentid,
        "studentCard": "/upload/" + profile.student_card if profile.student_card else None,
        "role": profile.role,
        # The one verified-student fact (campus mail or an approved card): users.verified.
        "identified": cards.identified(user),
        "avatar": _avatar_url(user),
        "phoneNumber": None if profiles.is_placeholder(user.phonenumber) else user.phonenumber,
        "email": profile.email,
        "alias": profile.alias if profile.alias is not None else user.username,
        "description": user.info,
        "createTime": moment(profile.created_at),
        "updateTime": moment(profile.updated_at),
        # Issue #15, after the seed's keys: the card's review ("0" pending, "1" approved,
        # "2" rejected; null without a card) and, when rejected, the reason staff gave.
        "studentCardState": state,
        "studentCardReason": reason,
    }


@bp.post("/users")
@handled
def register():
    body = payload()
    try:
        profiles.register(
            body.get("username"),
            body.get("password"),
            body.get("resetQuestion"),
            body.get("resetAnswer"),
            ip=request.remote_addr or "",
        )
    except profiles.RegistrationsExhausted:
        raise Refused(*TOO_MANY_REGISTRATIONS) from None
    return None


@bp.post("/users/sessions")
@handled
def login():
    body = payload()
    uuid, name, sid = profiles.login(body.get("username"), body.get("password"))
    auth.use_session(sid)
    # The original returned its entity with every other field nulled out.
    return {
        "id": user_id(uuid),
        "username": name,
        "password": None,
        "resetQuestion": None,
        "resetAnswer": None,
        "state": None,
        "createTime": None,
        "updateTime": None,
        "salt": None,
    }


@bp.delete("/users/sessions")
@handled
def logout():
    auth.log_out()
    return None


@bp.patch("/users/password")
@handled
def change_password():
    user = auth.current_user()
    body = payload()
    # Other devices' sessions and every login token issued before end; this session stays
    # (a caller on a Bearer token must log in again: the token predates the change).
    profiles.change_password(
        user.uuid, body.get("oldPassword"), body.get("newPassword"), keep_session=auth.current_session()
    )
    return None


@bp.post("/users/password/reset")
@handled
def reset_password():
    body = payload()
    profiles.reset_password(body.get("username"), body.get("resetAnswer"), body.get("newPassword"))
    return None  # every session and login token of the account ended with the reset


@bp.get("/users/detail")
@handled
def detail():
    return detail_of(auth.current_user())


@bp.post("/users/detail")
@handled
def update_detail():
    user = auth.current_user()
    try:
        profiles.update_detail(user.uuid, payload())
    except (BadCode, NoLiveCode):
        raise Refused(*BAD_CODE) from None
    return None


@bp.route("/users/detial/avatar", methods=["PATCH", "POST"], endpoint="avatar")  # sic, as the seed
@bp.route("/users/detail/avatar", methods=["PATCH", "POST"], endpoint="avatar")
@handled
def avatar():
    user = auth.current_user()
    return profiles.set_avatar(user.uuid, upload_bytes())


@bp.route("/users/detial/studentcard", methods=["PATCH", "POST"], endpoint="student_card")
@bp.route("/users/detail/studentcard", methods=["PATCH", "POST"], endpoint="student_card")
@handled
def student_card():
    user = auth.current_user()
    return profiles.set_student_card(user.uuid, upload_bytes())


@bp.get("/upload/<path:name>")
def uploaded(name):
    """Uploaded pictures; a student card only to its owner and to staff (issue #15)."""
    name = posixpath.normpath(name)
    if name.startswith(("/", "..")):
        abort(404)
    if name.startswith("student/") or name == "student":
        try:
            user = auth.current_user()
        except BadToken:
            abort(404)
        if profiles.profile_of(user.uuid).student_card != name and not cards.is_staff(user.uuid):
            abort(404)
    return send_from_directory(current_app.config["FOOF_UPLOAD_ROOT"], name, max_age=3600)
