"""Operating FOOF (issue #14): health and readiness, metrics, backups, startup checks."""


def init_app(app):
    """Register the operations routes and hooks; filled in as they land."""
