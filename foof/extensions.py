"""Extensions, created unbound here and bound by the factory (no module imports the app).

Also which MySQL/MariaDB driver a URL without one (``mysql://…``, ``mariadb://…``) uses
(issue #13): mysqlclient (``MySQLdb``, C over libmariadb, installed by the ``mysql`` extra
from the self-contained ``mysqlclient-static`` wheel) when it imports — SQLAlchemy's own
default — else PyMySQL (pure Python, always installed), where SQLAlchemy would refuse to
start. Measured on the seeded ``items`` table (``bench/drivers.py``), a primary-key read
costs mysqlclient about a third of PyMySQL's client CPU. A URL that names its driver
(``mysql+pymysql://``, ``mysql+mysqldb://``) is used as written.
"""

from __future__ import annotations

from typing import Any

from flask_jwt_extended import JWTManager
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.dialects import registry
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
jwt = JWTManager()


def mysqlclient_installed() -> bool:
    """Whether mysqlclient (the ``MySQLdb`` module) can be imported."""
    try:
        import MySQLdb  # noqa: F401
    except ImportError:  # absent, or its C library does not load
        return False
    return True


def plain_mysql_driver() -> str:
    """The driver of a ``mysql://`` or ``mariadb://`` URL: ``mysqldb`` or ``pymysql``."""
    return "mysqldb" if mysqlclient_installed() else "pymysql"


# The dialects registry resolves a plain name by importing a module attribute: these two
# are computed when a URL is first used (module __getattr__), so importing this module
# never imports a driver.
_PLAIN = {"PlainMySQLDialect": "mysql", "PlainMariaDBDialect": "mariadb"}


def __getattr__(name: str) -> Any:
    backend = _PLAIN.get(name)
    if backend is None:
        raise AttributeError(name)
    return registry.load(f"{backend}.{plain_mysql_driver()}")


for _attribute, _backend in _PLAIN.items():
    registry.register(_backend, __name__, _attribute)
