"""``/users``: register, sessions, passwords, detail, avatar and student card (seed 004)."""
import posixpath

from flask import Blueprint, abort, current_app, send_from_directory

from foof.domain import accounts, profiles, sessions
from foof.domain.errors import BadToken
from foof.rest import auth
from foof.rest.envelope import handled, moment, user_id
from foof.rest.wire import payload, upload_bytes

bp = Blueprint("rest_users", __name__)
UPLOAD_ENDPOINTS = ("rest_users.avatar", "rest_users.student_card")


def _avatar_url(user):
    url = user.avatarurl or ""
    return "/" if not url or url == accounts.DEFAULT_AVATAR else "/" + url.lstrip("/")


def detail_of(user):
    profile = profiles.profile_of(user.uuid)
    studentid = user.studentid if user.studentid not in ("", "0", None) else None
    return {
        "id": user_id(user.uuid),
        "studentNumber": studentid,
        "studentCard": "/upload/" + profile.student_card if profile.student_card else None,
        "role": profile.role,
        "identified": profile.identified,
        "avatar": _avatar_url(user),
        "phoneNumber": None if profiles.is_placeholder(user.phonenumber) else user.phonenumber,
        "email": profile.email,
        "alias": profile.alias if profile.alias is not None else user.username,
        "description": user.info,
        "createTime": moment(profile.created_at),
        "updateTime": moment(profile.updated_at),
    }


@bp.post("/users")
@handled
def register():
    body = payload()
    profiles.register(body.get("username"), body.get("password"), body.get("resetQuestion"),
                      body.get("resetAnswer"))
    return None


@bp.post("/users/sessions")
@handled
def login():
    body = payload()
    user = profiles.login(body.get("username"), body.get("password"))
    auth.log_in(user.uuid)
    profile = profiles.profile_of(user.uuid)
    # The original returned its entity with every other field nulled out.
    return {"id": user_id(user.uuid), "username": profile.login or user.phonenumber, "password": None,
            "resetQuestion": None, "resetAnswer": None, "state": None, "createTime": None,
            "updateTime": None, "salt": None}


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
    profiles.change_password(user.uuid, body.get("oldPassword"), body.get("newPassword"))
    sessions.end_all(user.uuid, keep=auth.current_session())  # other devices must log in again
    return None


@bp.post("/users/password/reset")
@handled
def reset_password():
    body = payload()
    uuid = profiles.reset_password(body.get("username"), body.get("resetAnswer"), body.get("newPassword"))
    sessions.end_all(uuid)
    return None


@bp.get("/users/detail")
@handled
def detail():
    return detail_of(auth.current_user())


@bp.post("/users/detail")
@handled
def update_detail():
    user = auth.current_user()
    profiles.update_detail(user.uuid, payload())
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
    """Uploaded pictures; a student card only to its owner."""
    name = posixpath.normpath(name)
    if name.startswith(("/", "..")):
        abort(404)
    if name.startswith("student/") or name == "student":
        try:
            user = auth.current_user()
        except BadToken:
            abort(404)
        if profiles.profile_of(user.uuid).student_card != name:
            abort(404)
    return send_from_directory(current_app.config["FOOF_UPLOAD_ROOT"], name, max_age=3600)
