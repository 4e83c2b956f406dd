"""What must hold before FOOF serves: the database answers, every table exists, the search
index opens. ``python wsgi.py`` refuses to start with one line naming the first problem
(instead of logging "serving" and answering every request with a 500), and ``/readyz``
reports the same checks."""

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from foof.extensions import db


def safe_url(url):
    """The database URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a URL SQLAlchemy cannot parse is shown as a kind only
        return "(unparsable URL)"


def _reason(exc):
    """One line of what the driver said (its own message, no traceback, no SQL)."""
    orig = getattr(exc, "orig", None) or exc
    text_ = str(orig.args[-1] if getattr(orig, "args", None) else orig)
    return " ".join(text_.split())[:200] or type(orig).__name__


def problems(app, search=True):
    """Plain sentences, empty when FOOF can serve. Needs no request; opens its own context."""
    found = []
    with app.app_context():
        try:
            with db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
                existing = set(inspect(conn).get_table_names())
        except Exception as exc:  # noqa: BLE001 - any driver error means "unreachable"
            url = safe_url(app.config["SQLALCHEMY_DATABASE_URI"])
            return [f"database {url} is unreachable: {_reason(exc)}"]
        missing = [t.name for t in db.metadata.sorted_tables if t.name not in existing]
        if missing:
            found.append(f"tables missing: {', '.join(missing)} (run 'flask --app foof init-db')")
        if search:
            backend = app.extensions.get("foof.search")
            if backend is not None and not _index_opens(backend):
                found.append("search index missing or unreadable (run 'flask --app foof reindex')")
    return found


def _index_opens(backend):
    try:
        if not backend.exists():
            return False
        opener = getattr(backend, "_open", None)
        if opener is None:
            return True
        for kind in ("goods", "users"):
            index = opener(kind)
            if index is None:
                return False
            index.close()
        return True
    except Exception:  # noqa: BLE001 - a corrupt index is "unreadable"
        return False
