"""Building the database schema and the search index: shared by ``init-db``, ``reindex`` and
``seed-demo`` (foof.cli and foof.seed both import from here, neither from the other)."""

import click
from sqlalchemy import func, inspect, select

from foof.extensions import db
from foof.models import Item, User


def create_schema():
    """Create missing tables and indexes; never alter or drop anything that exists.

    Returns ``(tables_created, indexes_created, index_problems)``.
    """
    inspector = inspect(db.engine)
    existing = set(inspector.get_table_names())
    tables = [t for t in db.metadata.sorted_tables if t.name not in existing]
    db.metadata.create_all(db.engine, tables=tables)
    made, problems = [], []
    for table in db.metadata.sorted_tables:
        if table.name not in existing:
            continue
        present = {ix["name"] for ix in inspector.get_indexes(table.name)}
        present |= {uc["name"] for uc in inspector.get_unique_constraints(table.name)}
        for index in table.indexes:
            if index.name in present:
                continue
            try:
                index.create(db.engine)
                made.append(index.name)
            except Exception as exc:  # e.g. duplicates in an old favourites table
                problems.append(f"{index.name}: {getattr(exc, 'orig', exc)}")
    return [t.name for t in tables], made, problems


def rebuild_search_index(backend):
    """Rebuild ``backend``'s indexes from the database with a progress bar per kind."""
    totals = {
        "goods": db.session.execute(select(func.count()).select_from(Item).where(Item.sold.in_((1, -1)))).scalar(),
        "users": db.session.execute(select(func.count()).select_from(User)).scalar(),
    }
    bars = {}
    try:

        def progress(kind, n):
            if kind not in bars:
                for bar in bars.values():
                    bar.render_finish()
                bars[kind] = click.progressbar(length=totals[kind], label=f"indexing {kind}")
                bars[kind].__enter__()
            bars[kind].update(n)

        counts = backend.rebuild(progress)
    finally:
        for bar in bars.values():
            bar.__exit__(None, None, None)
    click.echo(f"indexed {counts['goods']} items on sale and {counts['users']} users into {backend.current_dir()}")
