"""The console's pages. A view checks the staff session, reads its form, calls one domain
function and redirects (POST) or renders (GET); refusals come back as a fixed message code
in the query (``?m=…``), never as text taken from the request.

Cookies: ``foof_admin`` (the session id; HttpOnly, SameSite=Strict, path /admin, Secure like
the REST cookie) and, before logging in, ``foof_admin_csrf`` (the login form's CSRF secret).
Every page answers with ``Cache-Control: no-store``, a strict Content-Security-Policy (no
script at all) and ``frame-ancestors 'none'``.
"""

import functools
import posixpath
import secrets

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, send_from_directory, url_for

from foof.admin.chart import bars
from foof.admin.forms import ActionForm, CardForm, LoginForm, ReasonForm, ResolveForm
from foof.domain import audit, cards, dashboard, moderation, profiles, reports, staffauth
from foof.domain.errors import (
    AccountDisabled,
    DomainError,
    Invalid,
    ItemNotFound,
    StorageRejected,
    TooFrequent,
    UserNotFound,
    WrongPassword,
)

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")
SESSION_COOKIE = "foof_admin"
LOGIN_CSRF_COOKIE = "foof_admin_csrf"
COOKIE_PATH = "/admin"
#: Message codes → text shown at the top of a page.
MESSAGES = {
    "approved": "已通过该学生证，该用户现为已认证学生。",
    "rejected": "已驳回该学生证。",
    "card-changed": "该学生证已被处理或已重新上传，请刷新后再看。",
    "need-reason": "驳回时请填写原因（最多 255 个字）。",
    "resolved": "举报已处理。",
    "report-gone": "该举报不存在或已被处理。",
    "bad-action": "该处理方式不适用于此举报。",
    "disabled": "账号已停用，其商品已隐藏，登录令牌与会话已失效。",
    "already-disabled": "该账号已是停用状态。",
    "enabled": "账号已恢复，其商品已重新上架。",
    "already-enabled": "该账号未被停用。",
    "unlocked": "已解除该账号的登录锁定。",
    "staff": "不能在后台停用管理员或审核员，请先用 grant-role 取消其角色。",
    "no-user": "用户不存在。",
    "no-item": "商品不存在或已删除。",
    "expired": "页面已过期，请重试。",
    "invalid": "输入不合法。",
    "storage": "数据库拒绝了该值，请修改后重试。",
    "logged-out": "已退出登录。",
}
LOGIN_ERRORS = {
    WrongPassword: "手机号或密码错误。",
    TooFrequent: "尝试次数过多，请 15 分钟后再试。",
    staffauth.ConsoleLoginsExhausted: "登录失败次数过多，请 15 分钟后再试。",
    AccountDisabled: "该账号已被停用。",
    staffauth.NotStaff: "该账号没有后台权限。",
    Invalid: "手机号或密码错误。",
}
CSP = (
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


#: What an HTML form sends; anything else (JSON, text) posted to the console is refused.
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


@bp.before_request
def _only_forms():
    if request.method == "POST" and request.mimetype not in FORM_TYPES:
        return render_template("admin/refused.html"), 400
    return None


@bp.before_request
def _load_staff():
    g.staff = staffauth.current(request.cookies.get(SESSION_COOKIE))
    g.new_login_csrf = None
    if g.staff is not None:
        g.admin_csrf = {"csrf": g.staff.csrf_secret}
    else:
        value = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not (len(value) == 64 and all(ch in "0123456789abcdef" for ch in value)):
            value = g.new_login_csrf = secrets.token_hex(32)
        g.admin_csrf = {"csrf": value}


@bp.after_request
def _harden(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if getattr(g, "new_login_csrf", None):
        _set_cookie(response, LOGIN_CSRF_COOKIE, g.new_login_csrf, max_age=2 * 3600)
    ended = "staff" in g and g.staff is None  # a session cookie that no longer names a session
    if ended and request.cookies.get(SESSION_COOKIE) and request.endpoint != "admin.login":
        response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response


def _set_cookie(response, name, value, max_age):
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Strict",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )


@bp.context_processor
def _helpers():
    return {"logout_form_token": lambda: ActionForm().csrf_token}


def staff_required(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if g.staff is None:
            return redirect(url_for("admin.login"))
        return view(*args, **kwargs)

    return wrapper


def _back(endpoint, message, **values):
    return redirect(url_for(endpoint, m=message, **values))


def _message():
    return MESSAGES.get(request.args.get("m", ""))


def _page(template, **context):
    return render_template(
        "admin/" + template, staff=g.staff, message=_message(), role_labels=cards.ROLE_LABELS, **context
    )


# -- logging in ------------------------------------------------------------------------------
@bp.route("/login", methods=["GET", "POST"])
def login():
    if g.staff is not None and request.method == "GET":
        return redirect(url_for("admin.dashboard"))
    form = LoginForm()
    error = None
    if form.is_submitted():
        if form.validate():
            try:
                sid, _ = staffauth.login(form.phone.data, form.password.data, request.remote_addr or "")
            except tuple(LOGIN_ERRORS) as exc:
                error = next(text for klass, text in LOGIN_ERRORS.items() if isinstance(exc, klass))
            else:
                staffauth.logout(request.cookies.get(SESSION_COOKIE))  # a session the browser had ends
                response = redirect(url_for("admin.dashboard"))
                hours = int(current_app.config["FOOF_ADMIN_SESSION_HOURS"])
                _set_cookie(response, SESSION_COOKIE, sid, max_age=hours * 3600)
                response.delete_cookie(LOGIN_CSRF_COOKIE, path=COOKIE_PATH)
                return response
        elif form.csrf_token.errors:
            error = MESSAGES["expired"]
        else:
            error = "请填写手机号和密码。"
    status = 200 if error is None else 400
    return render_template("admin/login.html", form=form, error=error, message=_message(), staff=None), status


@bp.post("/logout")
def logout():
    form = ActionForm()
    if g.staff is not None and form.validate_on_submit():
        staffauth.logout(request.cookies.get(SESSION_COOKIE))
        response = _back("admin.login", "logged-out")
        response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
        return response
    return redirect(url_for("admin.login"))


# -- dashboard -------------------------------------------------------------------------------
@bp.get("", endpoint="dashboard")  # "/admin": PathNormaliser drops the trailing slash
@staff_required
def dashboard_page():
    days = dashboard.per_day(30)
    return _page(
        "dashboard.html",
        counts=dashboard.counts(),
        chart=bars(days),
        listed_total=sum(d[1] for d in days),
        traded_total=sum(d[2] for d in days),
    )


# -- student cards -----------------------------------------------------------------------------
@bp.get("/cards")
@staff_required
def cards_page():
    queue = []
    for review in cards.pending():
        try:
            user = moderation.user_summary(review.uuid)
        except UserNotFound:
            continue
        queue.append((review, user))
    return _page("cards.html", queue=queue, form=CardForm())


@bp.get("/cards/<int(max=2147483647):uuid>/image")
@staff_required
def card_image(uuid):
    review = cards.review_of(uuid)
    if review is None:
        abort(404)
    name = posixpath.normpath(review.card)
    if not name.startswith("student/"):
        abort(404)
    return send_from_directory(profiles.upload_root(), name, max_age=0)


@bp.post("/cards/<int(max=2147483647):uuid>/<any(approve, reject):decision>")
@staff_required
def decide_card(uuid, decision):
    form = CardForm()
    if not form.validate_on_submit():
        return _back("admin.cards_page", "expired" if form.csrf_token.errors else "invalid")
    try:
        if decision == "approve":
            cards.approve(uuid, form.card.data, g.staff.uuid)
        else:
            cards.reject(uuid, form.card.data, form.reason.data or "", g.staff.uuid)
    except cards.CardChanged:
        return _back("admin.cards_page", "card-changed")
    except Invalid:
        return _back("admin.cards_page", "need-reason")
    except UserNotFound:
        return _back("admin.cards_page", "no-user")
    except StorageRejected:
        return _back("admin.cards_page", "storage")
    return _back("admin.cards_page", "approved" if decision == "approve" else "rejected")


# -- reports ---------------------------------------------------------------------------------
@bp.get("/reports")
@staff_required
def reports_page():
    queue = [(report, reports.describe(report)) for report in reports.open_reports()]
    return _page("reports.html", queue=queue, form=ResolveForm(), resolutions=reports.RESOLUTIONS)


@bp.post("/reports/<int(max=2147483647):report_id>/resolve")
@staff_required
def resolve_report(report_id):
    form = ResolveForm()
    if not form.validate_on_submit():
        return _back("admin.reports_page", "expired" if form.csrf_token.errors else "invalid")
    try:
        reports.resolve(report_id, form.action.data, g.staff.uuid, form.reason.data or "")
    except reports.ReportNotOpen:
        return _back("admin.reports_page", "report-gone")
    except reports.StaffTarget:
        return _back("admin.reports_page", "staff")
    except ItemNotFound:
        return _back("admin.reports_page", "no-item")
    except UserNotFound:
        return _back("admin.reports_page", "no-user")
    except Invalid:
        return _back("admin.reports_page", "bad-action")
    except StorageRejected:
        return _back("admin.reports_page", "storage")
    return _back("admin.reports_page", "resolved")


# -- users -----------------------------------------------------------------------------------
@bp.get("/users")
@staff_required
def users_page():
    query = request.args.get("q", "")
    found = moderation.search_users(query) if query else []
    return _page("users.html", query=query[:64], found=found, form=ReasonForm(), action_form=ActionForm())


@bp.post("/users/<int(max=2147483647):uuid>/<any(disable, enable, unlock):action>")
@staff_required
def user_action(uuid, action):
    form = ReasonForm() if action == "disable" else ActionForm()
    query = request.args.get("q", "")[:64]
    if not form.validate_on_submit():
        return _back("admin.users_page", "expired" if form.csrf_token.errors else "invalid", q=query)
    actor = str(g.staff.uuid)
    try:
        if action == "disable":
            if cards.is_staff(uuid):
                return _back("admin.users_page", "staff", q=query)
            message = "disabled" if moderation.disable(uuid, form.reason.data or "", actor) else "already-disabled"
        elif action == "enable":
            message = "enabled" if moderation.enable(uuid, actor) else "already-enabled"
        else:
            moderation.unlock(uuid, actor)
            message = "unlocked"
    except UserNotFound:
        message = "no-user"
    except StorageRejected:
        message = "storage"
    except DomainError:
        message = "invalid"
    return _back("admin.users_page", message, q=query)


# -- audit log -------------------------------------------------------------------------------
@bp.get("/audit")
@staff_required
def audit_page():
    raw = request.args.get("page", "1")
    page = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 6 and int(raw) > 0 else 1
    total = audit.count()
    return _page(
        "audit.html",
        entries=audit.entries(page),
        page=page,
        pages=max(1, -(-total // audit.PAGE_SIZE)),
        names=moderation.names_of,
    )
