"""``flask --app foof backup`` and ``restore``: everything a campus would lose with the machine.

One ``.tar.gz`` archive (mode 0600, in ``instance/backups/`` by default) holding:

- ``database/foof.db``: the SQLite database copied with SQLite's online backup API, which
  reads a consistent snapshot (committed WAL pages included) while the server keeps
  serving; or ``database/dump.sql`` from ``mysqldump --single-transaction`` on MySQL/MariaDB
  (a consistent InnoDB snapshot, no lock held on the tables);
- ``media/``: ``FOOF_MEDIA_ROOT`` (``static/image``: avatars and item photos);
- ``upload/``: ``FOOF_UPLOAD_ROOT`` (the REST face's uploads);
- ``instance/``: the secrets and settings (``secret_key``, ``jwt_secret``, ``foof.cfg``, key
  files), not the search index (``restore`` rebuilds it), not the outboxes (live codes), not
  older backups;
- ``manifest.json``: when, from which database kind, how many files.

``restore`` brings a machine back from one archive, with the server stopped: files are written
beside their target and renamed into place, secrets 0600, and the search index is rebuilt.
An existing ``instance/foof.cfg`` is kept (the archive's is written as ``foof.cfg.restored``)
because it names the database being restored into.
"""

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from datetime import datetime, timezone

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url

from foof.extensions import db

FORMAT = 1
#: Instance entries never archived: rebuilt (index), live codes (outbox), archives, the database.
SKIP_INSTANCE = {"index", "outbox", "backups"}
PRIVATE_FILE, PRIVATE_DIR = 0o600, 0o700


def _sqlite_path(url):
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise click.ClickException("an in-memory SQLite database cannot be backed up")
    return os.path.abspath(parsed.database)


def _mysql_args(url, program):
    """``(argv, env)`` for the mysql client programs; the password travels in the environment."""
    parsed = make_url(url)
    exe = shutil.which(program) or shutil.which(program.replace("mysql", "mariadb"))
    if exe is None:
        raise click.ClickException(
            f"{program} not found: install the MariaDB/MySQL client (apt-get install mariadb-client)"
        )
    argv = [exe, f"--host={parsed.host or 'localhost'}", f"--port={parsed.port or 3306}"]
    if parsed.username:
        argv.append(f"--user={parsed.username}")
    argv.append("--default-character-set=utf8mb4")
    env = dict(os.environ)
    if parsed.password:
        env["MYSQL_PWD"] = str(parsed.password)
    return argv, env, parsed.database


def _walk(root, prefix):
    """``(arcname, path)`` of every regular file under ``root`` (none if it does not exist)."""
    found = []
    if not os.path.isdir(root):
        return found
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(folder, name)
            if os.path.isfile(path) and not os.path.islink(path):
                found.append((prefix + "/" + os.path.relpath(path, root).replace(os.sep, "/"), path))
    return found


def _instance_files(app, database):
    found = []
    for name in sorted(os.listdir(app.instance_path)):
        path = os.path.join(app.instance_path, name)
        if name in SKIP_INSTANCE or os.path.islink(path):
            continue
        if database and os.path.abspath(path).startswith(database):  # foof.db, -wal, -shm
            continue
        if os.path.isfile(path):
            found.append(("instance/" + name, path))
        elif os.path.isdir(path):
            found += _walk(path, "instance/" + name)
    return found


def _private_create(path):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    return os.fdopen(fd, "wb")


def make_backup(app, output=None, echo=click.echo):
    """Write the archive; returns its path."""
    cfg = app.config
    url = cfg["SQLALCHEMY_DATABASE_URI"]
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    if output is None:
        folder = os.path.join(app.instance_path, "backups")
        os.makedirs(folder, mode=PRIVATE_DIR, exist_ok=True)
        output = os.path.join(folder, f"foof-backup-{stamp}.tar.gz")
    elif os.path.isdir(output):
        output = os.path.join(output, f"foof-backup-{stamp}.tar.gz")
    shown = click.format_filename(output)  # a name with bytes that are not UTF-8 prints too
    if os.path.exists(output):
        raise click.ClickException(f"{shown} exists already: choose another name")
    folder = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK | os.X_OK):
        raise click.ClickException(f"cannot write {shown}: {click.format_filename(folder)} is not a writable folder")
    try:
        return _write_backup(app, url, output, shown, echo)
    except OSError as exc:
        raise click.ClickException(f"backup to {shown} failed: {exc.strerror or exc}") from None


def _write_backup(app, url, output, shown, echo):
    cfg = app.config
    database = _sqlite_path(url)
    with tempfile.TemporaryDirectory(prefix="foof-backup-") as scratch:
        os.chmod(scratch, PRIVATE_DIR)
        if database:
            if not os.path.exists(database):
                raise click.ClickException(f"the SQLite database {database} does not exist")
            copy = os.path.join(scratch, "foof.db")
            source = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
            target = sqlite3.connect(copy)
            try:
                with target:
                    source.backup(target, pages=1024, sleep=0.005)  # readers and the writer go on
            finally:
                target.close()
                source.close()
            db_member = ("database/foof.db", copy)
            kind = "sqlite"
        else:
            argv, env, name = _mysql_args(url, "mysqldump")
            dump = os.path.join(scratch, "dump.sql")
            argv += ["--single-transaction", "--quick", "--no-tablespaces", name]
            with _private_create(dump) as out:
                done = subprocess.run(argv, stdout=out, stderr=subprocess.PIPE, env=env, timeout=3600)
            if done.returncode != 0:
                reason = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["failed"]
                raise click.ClickException(f"mysqldump failed: {reason[0]}")
            db_member = ("database/dump.sql", dump)
            kind = "mysql"
        members = [db_member]
        members += _walk(cfg["FOOF_MEDIA_ROOT"], "media")
        members += _walk(cfg["FOOF_UPLOAD_ROOT"], "upload")
        members += _instance_files(app, database)
        manifest = {
            "format": FORMAT,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "database": kind,
            "files": len(members),
        }
        partial = output + ".partial"
        raw = _private_create(partial)  # O_EXCL: never someone else's file
        try:
            with raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
                data = json.dumps(manifest, indent=1).encode()
                info = tarfile.TarInfo("manifest.json")
                info.size, info.mtime, info.mode = len(data), int(time.time()), PRIVATE_FILE
                tar.addfile(info, io.BytesIO(data))
                vanished = 0
                with click.progressbar(members, label="archiving", item_show_func=lambda m: m and m[0][:40]) as bar:
                    for arcname, path in bar:
                        try:
                            tar.add(path, arcname=arcname, recursive=False)
                        except FileNotFoundError:  # removed while serving (a photo replaced, an item deleted)
                            vanished += 1
            os.replace(partial, output)
        except BaseException:
            if os.path.exists(partial):
                os.unlink(partial)  # no half archive left beside the real ones
            raise
    gone = f", {vanished} removed meanwhile and left out" if vanished else ""
    echo(
        f"backup written to {shown} ({manifest['files'] - vanished} files{gone}, database {kind}, "
        f"{os.path.getsize(output)} bytes)"
    )
    return output


def _safe_name(name):
    parts = name.split("/")
    return (
        len(parts) >= 2
        and not set(parts) & {"", ".", ".."}
        and "\\" not in name
        and name.isprintable()  # no NUL, no control characters
    )


def _write_atomic(path, data_file, mode):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".restore-")
    try:
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(data_file, out)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def _manifest(tar, archive):
    """The archive's manifest as a dict with a known format and database kind."""
    try:
        manifest = json.load(tar.extractfile("manifest.json"))
    except (KeyError, ValueError, AttributeError, OSError, tarfile.TarError):
        raise click.ClickException(f"{archive} is not a FOOF backup (no manifest.json)") from None
    if not isinstance(manifest, dict):
        raise click.ClickException(f"{archive} is not a FOOF backup (its manifest.json is not an object)")
    if manifest.get("format") != FORMAT:
        raise click.ClickException(f"{archive} has backup format {manifest.get('format')!r}, expected {FORMAT}")
    if manifest.get("database") not in ("sqlite", "mysql"):
        raise click.ClickException(f"{archive} names no database kind (sqlite or mysql) in its manifest.json")
    return manifest


def _existing_parent(path):
    while not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def _plan(tar, roots, database, kind, archive):
    """``[(member, target path or None for the database, mode)]`` after checking every member:
    nothing is written while one of them is refused, nor when the disk cannot hold them."""
    plan, needed, seen = [], {}, set()
    for member in tar.getmembers():
        if member.name == "manifest.json" or member.isdir():
            continue
        if not member.isfile():  # links, devices, fifos: backup never writes them
            raise click.ClickException(f"refusing the archive member {member.name!r} (not a regular file)")
        if not _safe_name(member.name):
            raise click.ClickException(f"refusing the archive member {member.name!r}")
        top, _, rest = member.name.partition("/")
        if top == "database":
            expected = "foof.db" if kind == "sqlite" else "dump.sql"
            if rest != expected:
                raise click.ClickException(f"unexpected database member {rest!r}")
            plan.append((member, None, PRIVATE_FILE))
            where = os.path.dirname(database) if database else tempfile.gettempdir()
        elif top in roots:
            if top == "instance" and rest.split("/")[0] in SKIP_INSTANCE:
                raise click.ClickException(f"refusing the archive member {member.name!r} (never archived)")
            target = os.path.join(roots[top], *rest.split("/"))
            probe = target
            while probe != roots[top]:  # a folder where a file goes, or a file where a folder goes
                if (probe == target and os.path.isdir(probe)) or (probe != target and os.path.isfile(probe)):
                    raise click.ClickException(f"refusing the archive member {member.name!r} (a file and a folder)")
                probe = os.path.dirname(probe)
            mode = PRIVATE_FILE if top == "instance" else 0o644
            plan.append((member, target, mode))
            where = roots[top]
        else:
            raise click.ClickException(f"unexpected archive member {member.name!r}")
        if member.name in seen or any(other.startswith(member.name + "/") for other in seen):
            raise click.ClickException(f"refusing the archive member {member.name!r} (named twice)")
        if any(member.name.startswith(other + "/") for other in seen):
            raise click.ClickException(f"refusing the archive member {member.name!r} (a file and a folder)")
        seen.add(member.name)
        where = _existing_parent(os.path.abspath(where))
        needed[where] = needed.get(where, 0) + member.size
    for where, size in needed.items():
        free = shutil.disk_usage(where)[2]
        if size + 64 * 1024 * 1024 > free:
            raise click.ClickException(
                f"not enough free space in {where} to restore {archive}: {size} bytes needed, {free} free"
            )
    return plan


def restore_backup(app, archive, echo=click.echo):
    cfg = app.config
    url = cfg["SQLALCHEMY_DATABASE_URI"]
    try:
        tar = tarfile.open(archive, mode="r:gz")
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise click.ClickException(f"{archive} is not a FOOF backup: {exc}") from None
    with tar:
        manifest = _manifest(tar, archive)
        database = _sqlite_path(url)
        want = "sqlite" if database else "mysql"
        if manifest["database"] != want:
            raise click.ClickException(
                f"the archive holds a {manifest['database']} database but FOOF is configured for {want}"
            )
        roots = {"media": cfg["FOOF_MEDIA_ROOT"], "upload": cfg["FOOF_UPLOAD_ROOT"], "instance": app.instance_path}
        try:
            plan = _plan(tar, roots, database, want, archive)
        except (OSError, tarfile.TarError, EOFError) as exc:
            raise click.ClickException(f"{archive} cannot be read: {exc}") from None
        notes = []
        with app.app_context():
            db.session.remove()
            db.engine.dispose()  # no connection of ours keeps the old file open
        try:
            with click.progressbar(plan, label="restoring") as bar:
                for member, target, mode in bar:
                    source = tar.extractfile(member)
                    if target is None:
                        _restore_database(url, database, member.name.partition("/")[2], source)
                        continue
                    if member.name == "instance/foof.cfg" and os.path.exists(target):
                        target += ".restored"
                        notes.append(f"kept the existing instance/foof.cfg; the archive's is {target}")
                    _write_atomic(target, source, mode)
        except (OSError, tarfile.TarError, EOFError) as exc:
            raise click.ClickException(f"restoring {archive} stopped part-way: {exc}") from None
    for note in notes:
        echo(note)
    created = manifest.get("created")
    when = f" (backup of {created})" if isinstance(created, str) else ""
    echo(f"restored {len(plan)} files from {archive}{when}")


def _restore_database(url, database, name, source):
    if database and name == "foof.db":
        for suffix in ("-wal", "-shm", "-journal"):
            if os.path.exists(database + suffix):
                os.unlink(database + suffix)  # they belong to the database being replaced
        _write_atomic(database, source, PRIVATE_FILE)
        return
    if not database and name == "dump.sql":
        argv, env, db_name = _mysql_args(url, "mysql")
        with tempfile.TemporaryFile() as dump:  # the client reads a real file descriptor
            shutil.copyfileobj(source, dump)
            dump.seek(0)
            done = subprocess.run(argv + [db_name], stdin=dump, stderr=subprocess.PIPE, env=env, timeout=3600)
        if done.returncode != 0:
            reason = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["failed"]
            raise click.ClickException(f"loading the dump failed: {reason[0]}")
        return
    raise click.ClickException(f"unexpected database member {name!r}")


@click.command("backup")
@with_appcontext
@click.option("--output", "-o", type=click.Path(dir_okay=True, writable=True), help="File or folder.")
def backup_command(output):
    """Back up the database, media, uploads and secrets into one private .tar.gz archive."""
    make_backup(current_app._get_current_object(), output)


@click.command("restore")
@with_appcontext
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(archive, yes):
    """Restore a backup archive (stop the server first); the search index is rebuilt after."""
    if not yes:
        click.confirm(
            "replace the database, media, uploads and secrets with the archive's (server stopped)?", abort=True
        )
    app = current_app._get_current_object()
    restore_backup(app, archive)
    from foof.schema import rebuild_search_index

    rebuild_search_index(app.extensions["foof.search"])


def register_commands(app):
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
