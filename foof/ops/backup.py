"""Backups (filled below)."""


def register_commands(app):
    pass
