"""Private files: the instance folder, the database, secrets and outboxes are the process's own.

Kept apart from ``foof/__init__.py`` so the modules that create such files (the factory, the
senders) can both use it without importing each other.
"""

import logging
import os

_log = logging.getLogger("foof")


def tighten(path, mode):
    """Take group and other permissions away from ``path`` beyond ``mode``; logs a change.
    A missing path is fine; one the process may not change is logged, not fatal."""
    try:
        current = os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        return
    if current & ~mode & 0o077 == 0:
        return
    try:
        os.chmod(path, current & mode)
    except OSError as exc:
        _log.warning("%s is mode %04o (readable by others) and could not be tightened: %s", path, current, exc)
        return
    _log.warning("%s was mode %04o, readable by others: tightened to %04o", path, current, current & mode)
