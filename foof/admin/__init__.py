"""The staff console at ``/admin/`` (issue #15) and the staff commands (``grant-role``).

Server-rendered pages (Jinja2 templates under ``templates/admin/``, inline CSS, no JavaScript)
for admins and moderators: the dashboard, the student-card and report queues, users, and the
audit log. See docs/administration.md.
"""

from foof.admin.views import bp


def init_app(app):
    app.register_blueprint(bp)


def register_commands(app):
    """Staff commands added to ``flask --app foof``."""
    from foof.admin.commands import grant_role

    app.cli.add_command(grant_role)
