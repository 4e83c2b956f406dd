"""``flask --app foof …`` commands: the schema (``init-db``, ``check-db``, ``reindex``), the old
database's duplicates and charsets, accounts (``create-user``, ``reset-password``,
``unlock-user``, ``disable-user``, ``enable-user``, ``recent-failures``), backups.

Every refusal is one line (``click.ClickException``, exit status 1; an unfixable schema 2),
never a traceback."""

import hashlib
import re
import sys
from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import delete, func, inspect, select, text, update

from foof.domain import accounts, clock, events, moderation, seclog
from foof.domain.errors import Invalid, PhoneTaken, UserNotFound
from foof.extensions import db
from foof.models import LEGACY_TABLES, Chat, Favourite, Item, Order, RateEvent, User
from foof.schema import create_schema, rebuild_search_index  # create_schema: also imported from here

#: The largest id a row has (INT columns); a bigger number names no account.
MAX_ID = 2**31 - 1


def _check_text(value, name):
    """An argument that cannot be stored: text with lone surrogates (bytes that are not UTF-8 on
    the command line, kept by Python as surrogate escapes). One line, not a driver traceback."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise click.ClickException(f"{name.replace('_', '-')} is not valid UTF-8 text") from None


def _existing_user(uuid):
    """The account row of ``uuid`` (a command-line integer), or one line."""
    row = db.session.get(User, uuid) if 0 < uuid <= MAX_ID else None
    if row is None:
        raise click.ClickException(f"no account with uuid {uuid}")
    return row


def database_errors(command):
    """One line instead of a driver traceback when the database is unreachable or lacks a table."""
    import functools

    from sqlalchemy.exc import OperationalError, ProgrammingError

    @functools.wraps(command)
    def run(*args, **kwargs):
        for name, value in kwargs.items():
            _check_text(value, name)
        try:
            return command(*args, **kwargs)
        except (OperationalError, ProgrammingError) as exc:
            from foof.ops.startup import _reason, safe_url

            db.session.rollback()
            url = safe_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
            raise click.ClickException(
                f"database {url}: {_reason(exc)} (is it reachable? missing tables: run 'flask --app foof init-db')"
            ) from None

    return run


def init_app(app):
    from foof.seed import seed_demo

    app.cli.add_command(init_db)
    app.cli.add_command(check_db)
    app.cli.add_command(create_user)
    app.cli.add_command(seed_demo)
    app.cli.add_command(reindex)
    for command in (
        reset_password,
        unlock_user,
        disable_user,
        enable_user,
        recent_failures,
        renumber_user,
        merge_users,
        convert_utf8mb4,
    ):
        app.cli.add_command(command)
    from foof.ops import backup

    backup.register_commands(app)


#: Indexes FOOF cannot do without, and what to do when old data prevents them.
REQUIRED_INDEXES = {
    "ux_users_phonenumber": "phone numbers held by more than one account: the later accounts can never log in. "
    "'flask --app foof check-db' lists them; fix each with 'renumber-user' or 'merge-users', then run init-db again.",
}


@click.command("init-db")
@with_appcontext
@database_errors
def init_db():
    """Create missing tables and indexes (idempotent; never alters existing tables)."""
    tables, indexes, problems = create_schema()
    click.echo(f"tables created: {', '.join(tables) or 'none (all present)'}")
    if indexes:
        click.echo(f"indexes added: {', '.join(indexes)}")
    required = []
    for problem in problems:
        name = problem.split(":", 1)[0]
        if name in REQUIRED_INDEXES:
            required.append(name)
            click.echo(f"ERROR: could not add required index {problem}", err=True)
        else:
            click.echo(f"warning: could not add index {problem}", err=True)
    backend = current_app.extensions["foof.search"]
    if not backend.exists():
        click.echo("search index missing: building it")
        rebuild_search_index(backend)
    if required:
        for name in required:
            click.echo(REQUIRED_INDEXES[name], err=True)
        sys.exit(2)


@click.command("reindex")
@with_appcontext
@database_errors
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
@database_errors
def check_db():
    """Compare the configured database with the legacy schema; exit 1 on incompatibility."""
    inspector = inspect(db.engine)
    problems, notes = compare_schema(inspector, db.metadata)
    if "users" in inspector.get_table_names():
        duplicates = duplicate_phones()
        if duplicates:
            problems.append(_describe_duplicates(duplicates))
            notes = [n for n in notes if "ux_users_phonenumber" not in n]
    for note in charset_notes(inspector):
        notes.append(note)
    for note in notes:
        click.echo(f"note: {note}")
    for problem in problems:
        click.echo(f"INCOMPATIBLE: {problem}")
    if problems:
        click.echo(f"{len(problems)} incompatibilit{'y' if len(problems) == 1 else 'ies'} found.")
        sys.exit(1)
    click.echo("compatible with the legacy schema.")


# --------------------------------------------------------------------------------------------
# The old database: phone numbers held by several accounts, 3-byte utf8 tables


def duplicate_phones():
    """``{phone: [row, …]}`` for every phone number held by more than one account; each row is
    a dict of uuid, phonenumber, username, first activity (the earliest chat message sent or
    received: the users table has no creation time) and items owned, oldest uuid first."""
    phones = list(
        db.session.execute(
            select(User.phonenumber).group_by(User.phonenumber).having(func.count(User.uuid) > 1)
        ).scalars()
    )
    found = {}
    for phone in phones:
        rows = []
        for uuid, username in db.session.execute(
            select(User.uuid, User.username).where(User.phonenumber == phone).order_by(User.uuid)
        ):
            items = db.session.execute(select(func.count()).select_from(Item).where(Item.uuid == uuid)).scalar()
            first = db.session.execute(
                select(func.min(Chat.createdAt)).where((Chat.sender == uuid) | (Chat.to == uuid))
            ).scalar()
            rows.append({"uuid": uuid, "phonenumber": phone, "username": username, "first": first, "items": items})
        found[phone] = rows
    db.session.rollback()
    return found


def _describe_duplicates(duplicates):
    lines_ = [
        f"{sum(len(r) for r in duplicates.values())} accounts share {len(duplicates)} phone number(s); "
        "only the first of each can log in and the unique index ux_users_phonenumber cannot be added:"
    ]
    for phone, rows in duplicates.items():
        for row in rows:
            first = row["first"].strftime("%Y-%m-%d") if row["first"] else "no chats"
            lines_.append(
                f"  phone {phone}  uuid {row['uuid']}  username {row['username']!r}  "
                f"first activity {first}  items owned {row['items']}"
            )
    lines_.append(
        "  fix each: 'flask --app foof renumber-user <uuid> <new phone>' (the person then logs in with the "
        "new number) or 'flask --app foof merge-users <uuid to remove> <uuid to keep>' (items, favourites, "
        "chats and orders move to the kept account), then run 'flask --app foof init-db'"
    )
    return "\n".join(lines_)


def legacy_charsets():
    """``[(table, column or None, charset)]`` of every legacy table and text column on MySQL/MariaDB
    (empty on SQLite, whose text is always UTF-8)."""
    if db.engine.dialect.name != "mysql":
        return []
    names = list(LEGACY_TABLES)
    with db.engine.connect() as conn:
        found = []
        params = {f"t{n}": name for n, name in enumerate(names)}
        marks = ", ".join(f":t{n}" for n in range(len(names)))
        tables = conn.execute(
            text(
                "SELECT t.TABLE_NAME, c.CHARACTER_SET_NAME FROM information_schema.TABLES t "
                "JOIN information_schema.COLLATION_CHARACTER_SET_APPLICABILITY c "
                "ON c.COLLATION_NAME = t.TABLE_COLLATION "
                f"WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_NAME IN ({marks}) ORDER BY t.TABLE_NAME"
            ),
            params,
        ).all()
        found += [(table, None, charset) for table, charset in tables]
        columns = conn.execute(
            text(
                "SELECT TABLE_NAME, COLUMN_NAME, CHARACTER_SET_NAME FROM information_schema.COLUMNS "
                f"WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ({marks}) AND CHARACTER_SET_NAME IS NOT NULL "
                "ORDER BY TABLE_NAME, ORDINAL_POSITION"
            ),
            params,
        ).all()
        found += [(table, column, charset) for table, column, charset in columns]
    return found


def charset_notes(inspector):
    """check-db's lines about character sets: every legacy table and text column, and whether
    it can store 4-byte characters (emoji)."""
    notes = []
    old = set()
    for table, column, charset in legacy_charsets():
        where = f"table {table}" if column is None else f"{table}.{column}"
        if charset != "utf8mb4":
            old.add(table)
            notes.append(f"{where} is {charset}: emoji and other 4-byte characters are refused there")
        else:
            notes.append(f"{where} is utf8mb4")
    if old:
        notes.append(
            f"'flask --app foof convert-utf8mb4' converts {', '.join(sorted(old))} to utf8mb4 in place "
            "(back the database up first; '--print-sql' shows the statements)"
        )
    return notes


def convert_statements():
    """``ALTER TABLE … CONVERT TO CHARACTER SET utf8mb4`` for each legacy table not yet fully utf8mb4."""
    tables = sorted({table for table, _, charset in legacy_charsets() if charset != "utf8mb4"})
    return [f"ALTER TABLE `{t}` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;" for t in tables]


@click.command("convert-utf8mb4")
@with_appcontext
@database_errors
@click.option("--print-sql", is_flag=True, help="Only print the statements (to run them with the mysql client).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def convert_utf8mb4(print_sql, yes):
    """Convert the legacy tables still in 3-byte utf8 (or latin1) to utf8mb4, in place."""
    if db.engine.dialect.name != "mysql":
        raise click.ClickException("only MySQL/MariaDB tables have character sets; SQLite stores UTF-8 already")
    statements = convert_statements()
    if not statements:
        click.echo("every legacy table and column is utf8mb4 already.")
        return
    if print_sql:
        click.echo("\n".join(statements))
        return
    if not yes:
        click.confirm(f"convert {len(statements)} table(s) in place (back the database up first)?", abort=True)
    with click.progressbar(statements, label="converting") as bar:
        for statement in bar:
            with db.engine.begin() as conn:
                conn.execute(text(statement.rstrip(";")))
    click.echo(f"converted {len(statements)} table(s) to utf8mb4.")


def _one_account(phone):
    uuids = list(db.session.execute(select(User.uuid).where(User.phonenumber == phone)).scalars())
    return uuids


@click.command("renumber-user")
@with_appcontext
@database_errors
@click.argument("uuid", type=int)
@click.argument("phonenumber")
def renumber_user(uuid, phonenumber):
    """Give account UUID a new phone number (a duplicate's way to log in again)."""
    _check_phone(phonenumber)
    user = _existing_user(uuid)
    if _one_account(phonenumber):
        raise click.ClickException(f"phone number {phonenumber} is already registered")
    old = user.phonenumber
    user.phonenumber = phonenumber
    db.session.commit()
    seclog.event("account.renumbered", uuid=uuid, old=seclog.mask(old), new=seclog.mask(phonenumber), actor="cli")
    click.echo(f"account {uuid} now logs in with {phonenumber} (was {old}); tell its owner.")


@click.command("merge-users")
@with_appcontext
@database_errors
@click.argument("remove", type=int)
@click.argument("keep", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def merge_users(remove, keep, yes):
    """Move everything of account REMOVE (items, favourites, chats, orders) to account KEEP and
    delete REMOVE (for two accounts of one person sharing a phone number)."""
    if remove == keep:
        raise click.ClickException("name two different accounts")
    for uuid in (remove, keep):
        _existing_user(uuid)
    if not yes:
        click.confirm(f"move everything of account {remove} to {keep} and delete {remove}?", abort=True)
    from foof.models import AccountBlock, Credential, UserProfile, WebSession

    counts = {}
    session = db.session
    counts["items"] = session.execute(update(Item).where(Item.uuid == remove).values(uuid=keep)).rowcount
    session.execute(update(Item).where(Item.to == remove).values(to=keep))
    kept_favourites = select(Favourite.itemid).where(Favourite.uuid == keep).scalar_subquery()
    session.execute(delete(Favourite).where(Favourite.uuid == remove, Favourite.itemid.in_(kept_favourites)))
    counts["favourites"] = session.execute(update(Favourite).where(Favourite.uuid == remove).values(uuid=keep)).rowcount
    counts["chats"] = session.execute(update(Chat).where(Chat.sender == remove).values(sender=keep)).rowcount
    counts["chats"] += session.execute(update(Chat).where(Chat.to == remove).values(to=keep)).rowcount
    # Before init-db (the usual moment: fixing the old data) the new tables do not exist yet.
    existing = set(inspect(db.engine).get_table_names())
    counts["orders"] = 0
    if "orders" in existing:
        counts["orders"] = session.execute(update(Order).where(Order.buyer == remove).values(buyer=keep)).rowcount
        counts["orders"] += session.execute(update(Order).where(Order.seller == remove).values(seller=keep)).rowcount
    if "user_profiles" in existing and session.get(UserProfile, keep) is None:
        session.execute(update(UserProfile).where(UserProfile.uuid == remove).values(uuid=keep))
    for model in (UserProfile, Credential, AccountBlock, WebSession):
        if model.__tablename__ in existing:
            session.execute(delete(model).where(model.uuid == remove))
    session.execute(delete(User).where(User.uuid == remove))
    session.commit()
    events.user_changed(keep)
    events.user_changed(remove)  # the writer drops a row that is gone
    seclog.event("account.merged", uuid=remove, into=keep, actor="cli", **counts)
    click.echo(
        f"merged account {remove} into {keep}: {counts['items']} items, {counts['favourites']} favourites, "
        f"{counts['chats']} chat messages, {counts['orders']} orders moved; account {remove} deleted. "
        "Run 'flask --app foof reindex' to refresh search."
    )


# --------------------------------------------------------------------------------------------
# Accounts

#: A number an admin may give an account: a mainland mobile number (11 digits starting with 1)
#: or an international one (+, 8-15 digits). The app registers only the former.
ADMIN_PHONE = re.compile(r"(?:1[0-9]{10}|\+[0-9]{8,15})\Z")


def _check_phone(phonenumber):
    if not ADMIN_PHONE.match(phonenumber):
        raise click.ClickException(
            f"phone number {phonenumber!r} is not valid: 11 digits starting with 1, or + and 8-15 digits"
        )


def _read_password(password, from_stdin, label="password"):
    """The typed password: the argument, one line of stdin, or asked twice without echo."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif password is None:
        password = click.prompt(
            f"new {label}", hide_input=True, confirmation_prompt=True, default="", show_default=False
        )
    _check_text(password, "the password")
    if not password.strip():
        raise click.ClickException("the password must not be empty or only spaces")
    if len(password) > 255:
        raise click.ClickException("the password must be at most 255 characters")
    return password


def _as_sent(password, raw):
    """What the legacy client sends for a typed password: its lowercase SHA-1 hex."""
    return password if raw else hashlib.sha1(password.encode("utf-8")).hexdigest()


def find_account(who):
    """The uuid named by ``who``: a phone number, a uuid, or ``uuid:N``. One line on failure."""
    text_ = who.strip()
    if text_.lower().startswith("uuid:"):
        text_ = text_[5:]
        forced = True
    else:
        forced = False
    if not forced:
        uuids = _one_account(text_)
        if len(uuids) > 1:
            raise click.ClickException(
                f"phone number {text_} is held by accounts {', '.join(map(str, uuids))}: name one as uuid:N"
            )
        if uuids:
            return uuids[0]
    if text_.isascii() and text_.isdigit() and int(text_) < 2**31 and db.session.get(User, int(text_)) is not None:
        return int(text_)
    raise click.ClickException(f"no account with phone number or uuid {who!r}")


@click.command("create-user")
@with_appcontext
@database_errors
@click.argument("phonenumber")
@click.argument("password", required=False)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@click.option(
    "--raw",
    is_flag=True,
    help="Store PASSWORD as given. By default it is stored as the legacy client "
    "sends it: the SHA-1 hex of what the person types.",
)
def create_user(phonenumber, password, password_stdin, raw):
    """Create an account without an SMS code (admins, demos). Without PASSWORD it is asked twice."""
    _check_phone(phonenumber)
    secret = _as_sent(_read_password(password, password_stdin), raw)
    try:
        uuid = accounts.create_user(phonenumber, secret)
    except PhoneTaken:
        raise click.ClickException(f"phone number {phonenumber} is already registered")
    except Invalid:
        raise click.ClickException("phone number must be 1-20 digits (optional +), password not empty")
    click.echo(f"created user {uuid} ({phonenumber})")
    if not raw:
        click.echo(f"API clients log in with password={secret} (SHA-1 of the typed password)")


@click.command("reset-password")
@with_appcontext
@database_errors
@click.argument("who")
@click.option("--password-stdin", is_flag=True, help="Read the new password from the first line of stdin.")
@click.option("--raw", is_flag=True, help="Store the password as given instead of its SHA-1 hex.")
def reset_password(who, password_stdin, raw):
    """Set a new password for WHO (phone number or uuid); every login of the account ends."""
    uuid = find_account(who)
    secret = _as_sent(_read_password(None, password_stdin), raw)
    try:
        accounts.admin_reset_password(uuid, secret, actor="cli")
    except (Invalid, UserNotFound):
        raise click.ClickException(f"could not reset the password of account {uuid}")
    click.echo(f"password of account {uuid} reset; its tokens and sessions no longer work.")


@click.command("unlock-user")
@with_appcontext
@database_errors
@click.argument("who")
def unlock_user(who):
    """Forget the failed logins that lock WHO (phone number or uuid) out."""
    uuid = find_account(who)
    forgotten = moderation.unlock(uuid, actor="cli")
    click.echo(f"account {uuid} unlocked ({forgotten} failed login(s) forgotten).")


@click.command("disable-user")
@with_appcontext
@database_errors
@click.argument("who")
@click.option("--reason", default="", help="Why (kept with the block and in the security log).")
def disable_user(who, reason):
    """Disable WHO (phone number or uuid): its tokens and sessions stop working at once."""
    uuid = find_account(who)
    if moderation.disable(uuid, reason=reason, actor="cli"):
        click.echo(f"account {uuid} disabled; its tokens and sessions no longer work.")
    else:
        click.echo(f"account {uuid} was already disabled.")


@click.command("enable-user")
@with_appcontext
@database_errors
@click.argument("who")
def enable_user(who):
    """Enable WHO (phone number or uuid) again; it logs in anew (old tokens stay refused)."""
    uuid = find_account(who)
    if moderation.enable(uuid, actor="cli"):
        click.echo(f"account {uuid} enabled.")
    else:
        click.echo(f"account {uuid} was not disabled.")


@click.command("recent-failures")
@with_appcontext
@database_errors
@click.option("--hours", default=24, show_default=True, type=click.IntRange(1, 24 * 366))
def recent_failures(hours):
    """Failed password checks in the last HOURS, per account / number / login name, most first."""
    since = clock.now() - timedelta(hours=hours)
    window = clock.now() - timedelta(seconds=accounts.LOGIN_WINDOW)
    rows = db.session.execute(
        select(RateEvent.subject, func.count(), func.max(RateEvent.created_at))
        .where(RateEvent.kind == accounts.GUESS, RateEvent.created_at >= since)
        .group_by(RateEvent.subject)
        .order_by(func.count().desc(), RateEvent.subject)
    ).all()
    if not rows:
        click.echo(f"no failed logins in the last {hours} hour(s).")
        return
    click.echo(f"failed logins in the last {hours} hour(s) (UTC):")
    for subject, count, last in rows:
        recent = db.session.execute(
            select(func.count()).where(
                RateEvent.kind == accounts.GUESS, RateEvent.subject == subject, RateEvent.created_at >= window
            )
        ).scalar()
        locked = "  LOCKED (unlock-user)" if recent >= accounts.LOGIN_FAILURES else ""
        click.echo(f"  {subject:<28} {count:>5} failures, last {last:%Y-%m-%d %H:%M:%S}{locked}")
