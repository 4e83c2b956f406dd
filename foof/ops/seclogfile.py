"""``FOOF_SECURITY_LOG``: also write the ``foof.security`` lines to a file of their own (0600),
for an admin who wants one file to grep. Without it they go to stderr with every other log."""

import logging
import os

from foof.domain.seclog import log as SECURITY

_PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class PrivateFileHandler(logging.FileHandler):
    """A file handler whose file is created 0600 (and tightened if it exists looser)."""

    def _open(self):
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.chmod(self.baseFilename, 0o600)
        return open(fd, self.mode, encoding=self.encoding, errors=self.errors)


def init_app(app):
    path = str(app.config.get("FOOF_SECURITY_LOG") or "")
    if not path:
        return
    if not os.path.isabs(path):  # relative to the project folder, like every FOOF path
        path = os.path.join(_PROJECT_ROOT, path)
    path = os.path.abspath(path)
    for handler in SECURITY.handlers:  # one handler per file, however many apps are built
        if isinstance(handler, PrivateFileHandler) and handler.baseFilename == path:
            return
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    handler = PrivateFileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.setLevel(logging.INFO)
    SECURITY.addHandler(handler)
    if SECURITY.getEffectiveLevel() > logging.INFO:
        SECURITY.setLevel(logging.INFO)  # the file gets every event whatever FOOF_LOG_LEVEL says
