"""``flask --app foof …`` commands: init-db, check-db, create-user (and more as they land)."""

import hashlib
import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import inspect

from foof.domain import accounts
from foof.domain.errors import Invalid, PhoneTaken
from foof.extensions import db
from foof.models import LEGACY_TABLES
from foof.schema import create_schema, rebuild_search_index  # create_schema: also imported from here


def init_app(app):
    from foof.seed import seed_demo

    app.cli.add_command(init_db)
    app.cli.add_command(check_db)
    app.cli.add_command(create_user)
    app.cli.add_command(seed_demo)
    app.cli.add_command(reindex)


@click.command("init-db")
@with_appcontext
def init_db():
    """Create missing tables and indexes (idempotent; never alters existing tables)."""
    tables, indexes, problems = create_schema()
    click.echo(f"tables created: {', '.join(tables) or 'none (all present)'}")
    if indexes:
        click.echo(f"indexes added: {', '.join(indexes)}")
    for problem in problems:
        click.echo(f"could not add index {problem}", err=True)
    backend = current_app.extensions["foof.search"]
    if not backend.exists():
        click.echo("search index missing: building it")
        rebuild_search_index(backend)


@click.command("reindex")
@with_appcontext
def reindex():
    """Rebuild the search indexes from the database and swap them in atomically."""
    rebuild_search_index(current_app.extensions["foof.search"])


_FAMILIES = {
    "int": ("INT", "INTEGER", "BIGINT", "SMALLINT", "TINYINT", "MEDIUMINT", "BOOLEAN", "BOOL"),
    "text": ("VARCHAR", "CHAR", "TEXT", "TINYTEXT", "MEDIUMTEXT", "LONGTEXT", "NVARCHAR"),
    "float": ("DOUBLE", "FLOAT", "REAL", "DECIMAL", "NUMERIC", "DOUBLE PRECISION"),
    "datetime": ("DATETIME", "TIMESTAMP"),
}
#: Differences the old server really had and FOOF reads correctly.
_TOLERATED = {("users", "studentid", "int"), ("chats", "type", "text")}


def _family(sqltype):
    name = str(sqltype).upper().split("(")[0].strip()
    for family, names in _FAMILIES.items():
        if name in names:
            return family
    return name.lower()


def compare_schema(inspector, metadata):
    """``(problems, notes)``: plain sentences about how a database differs from docs/legacy-wire.md §4."""
    problems, notes = [], []
    existing = set(inspector.get_table_names())
    for name in LEGACY_TABLES:
        expected = metadata.tables[name]
        if name not in existing:
            hint = (
                " (found 'favorites': rename it to 'favourites')"
                if name == "favourites" and "favorites" in existing
                else ""
            )
            problems.append(f"table '{name}' is missing{hint}")
            continue
        actual = inspector.get_columns(name)
        by_name = {c["name"]: c for c in actual}
        wanted = [c.name for c in expected.columns]
        for column in expected.columns:
            found = by_name.get(column.name)
            if found is None:
                problems.append(f"table '{name}' has no column '{column.name}'")
                continue
            want, have = _family(column.type), _family(found["type"])
            if want != have:
                if (name, column.name, have) in _TOLERATED:
                    notes.append(f"{name}.{column.name} is {found['type']} (FOOF writes {column.type}); works as is")
                else:
                    problems.append(f"{name}.{column.name} is {found['type']}, expected {column.type}")
            if not column.nullable and found.get("nullable"):
                notes.append(f"{name}.{column.name} allows NULL; FOOF always writes a value")
            if column.nullable and not found.get("nullable"):
                notes.append(f"{name}.{column.name} is NOT NULL; FOOF may write NULL there")
        for column in actual:
            if column["name"] not in wanted:
                if column.get("nullable") or column.get("default") is not None or column.get("autoincrement"):
                    notes.append(f"{name}.{column['name']} is extra; FOOF ignores it")
                else:
                    problems.append(
                        f"{name}.{column['name']} is extra, NOT NULL and has no default: inserts would fail"
                    )
        order = [c["name"] for c in actual if c["name"] in wanted]
        if order != [w for w in wanted if w in by_name]:
            notes.append(f"columns of '{name}' are in another order; FOOF renders its own order")
        present = {ix["name"] for ix in inspector.get_indexes(name)}
        for index in expected.indexes:
            if index.name not in present:
                notes.append(f"index {index.name} is missing: 'flask --app foof init-db' adds it")
    for table in metadata.sorted_tables:
        if table.name not in LEGACY_TABLES and table.name not in existing:
            notes.append(f"new table '{table.name}' is missing: 'flask --app foof init-db' creates it")
    return problems, notes


@click.command("check-db")
@with_appcontext
def check_db():
    """Compare the configured database with the legacy schema; exit 1 on incompatibility."""
    problems, notes = compare_schema(inspect(db.engine), db.metadata)
    for note in notes:
        click.echo(f"note: {note}")
    for problem in problems:
        click.echo(f"INCOMPATIBLE: {problem}")
    if problems:
        click.echo(f"{len(problems)} incompatibilit{'y' if len(problems) == 1 else 'ies'} found.")
        sys.exit(1)
    click.echo("compatible with the legacy schema.")


@click.command("create-user")
@with_appcontext
@click.argument("phonenumber")
@click.argument("password")
@click.option(
    "--raw",
    is_flag=True,
    help="Store PASSWORD as given. By default it is stored as the legacy client "
    "sends it: the SHA-1 hex of what the person types.",
)
def create_user(phonenumber, password, raw):
    """Create an account without an SMS code (admins, demos)."""
    secret = password if raw else hashlib.sha1(password.encode("utf-8")).hexdigest()
    try:
        uuid = accounts.create_user(phonenumber, secret)
    except PhoneTaken:
        raise click.ClickException(f"phone number {phonenumber} is already registered")
    except Invalid:
        raise click.ClickException("phone number must be 1-20 digits (optional +), password not empty")
    click.echo(f"created user {uuid} ({phonenumber})")
    if not raw:
        click.echo(f"API clients log in with password={secret} (SHA-1 of the typed password)")
