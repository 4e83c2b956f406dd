"""The staff console at ``/admin/`` (issue #15) and the staff commands (``grant-role``)."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")


def init_app(app):
    app.register_blueprint(bp)


def register_commands(app):
    """Staff commands added to ``flask --app foof``; filled in by foof.admin.commands."""
