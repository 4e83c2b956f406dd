"""The console's forms: Flask-WTF ``FlaskForm`` with CSRF tokens.

Flask-WTF's own CSRF keeps its secret in Flask's session cookie, which is the REST face's
login cookie here; the console must not create that cookie. So the token is WTForms'
``SessionCSRF`` (an HMAC of a per-session secret and an expiry) over a context the console
owns: the staff session's secret (``staff_sessions.csrf_secret``), or before logging in a
random value in the ``foof_admin_csrf`` cookie (SameSite=Strict). A token from one staff
session is useless in another, and expires after 2 hours.
"""

from datetime import timedelta

from flask import current_app, g
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.csrf.session import SessionCSRF
from wtforms.validators import AnyOf, DataRequired, Length

from foof.domain import reports


class ConsoleForm(FlaskForm):
    class Meta(FlaskForm.Meta):
        csrf_class = SessionCSRF
        csrf_time_limit = timedelta(hours=2)

        @property
        def csrf_context(self):
            return g.admin_csrf

        @property
        def csrf_secret(self):
            return ("admin-csrf:" + str(current_app.secret_key)).encode("utf-8")


class LoginForm(ConsoleForm):
    phone = StringField("手机号", validators=[DataRequired("请输入手机号"), Length(max=32)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码"), Length(max=128)])


class ActionForm(ConsoleForm):
    """A button: only the CSRF token."""


class ReasonForm(ConsoleForm):
    reason = StringField("原因", validators=[Length(max=255, message="原因最多 255 个字")])


class CardForm(ConsoleForm):
    card = HiddenField(validators=[DataRequired(), Length(max=255)])
    reason = StringField("驳回原因", validators=[Length(max=255, message="原因最多 255 个字")])


class ResolveForm(ConsoleForm):
    # The page renders the <select>; the form checks the value is one of the resolutions.
    action = StringField("处理", validators=[DataRequired(), AnyOf(list(reports.RESOLUTIONS))])
    reason = StringField("说明", validators=[Length(max=255, message="说明最多 255 个字")])
