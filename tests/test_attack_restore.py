"""Hostile backup archives and a backup racing the server (issue #14 review): ``restore``
answers every archive it refuses with one line and writes nothing before it has checked
every member; ``backup`` survives files that vanish while it archives them."""

import collections
import io
import json
import os
import stat
import tarfile

import pytest

from foof.ops import backup
from tests.conftest import TEST_DB

KIND = "mysql" if TEST_DB else "sqlite"


def _archive(path, members, manifest=None):
    if manifest is None:
        manifest = {"format": 1, "database": KIND, "created": "x", "files": len(members)}
    with tarfile.open(path, "w:gz") as tar:
        for name, data in [("manifest.json", json.dumps(manifest).encode())] + members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _restore(app, path):
    with app.app_context():
        return app.test_cli_runner().invoke(args=["restore", "--yes", str(path)])


def _one_line_refusal(result):
    assert result.exit_code == 1, (result.output, result.exception)
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert lines and lines[-1].startswith("Error: "), result.output
    return lines[-1]


@pytest.mark.parametrize(
    "manifest",
    [[], "x", 1, None, {"format": 1}, {"format": 1, "database": ["sqlite"]}, {"format": 1, "database": KIND}],
)
def test_odd_manifests_are_one_line(app, tmp_path, manifest):
    path = tmp_path / "m.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        data = json.dumps(manifest).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    if manifest == {"format": 1, "database": KIND}:
        result = _restore(app, path)  # nothing to restore and no date: still no traceback
        assert (
            "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
        ), result.output
        return
    _one_line_refusal(_restore(app, path))


@pytest.mark.parametrize(
    "name",
    [
        "media",
        "upload",
        "instance",
        "media/",
        "./media/x.jpg",
        "media/./x.jpg",
        "media/a\nb.jpg",
        "media/a\x7fb.jpg",
        "instance/index",
        "instance/outbox",
        "instance/backups",
        "database/other.db",
        "elsewhere/x",
        "/etc/x",
        "media/../../x",
        "media\\..\\..\\x",
    ],
)
def test_a_bad_member_refuses_the_whole_archive_before_writing(app, tmp_path, name, media_root):
    good = media_root / "avatar" / "kept.jpg"
    good.write_bytes(b"before")
    path = _archive(tmp_path / "a.tar.gz", [("media/avatar/kept.jpg", b"after"), (name, b"x")])
    line = _one_line_refusal(_restore(app, path))
    assert "archive" in line or "member" in line, line
    assert good.read_bytes() == b"before"  # nothing was written before the refusal


def test_an_archive_larger_than_the_free_space_is_refused(app, tmp_path, media_root, monkeypatch):
    path = _archive(tmp_path / "big.tar.gz", [("media/avatar/a.jpg", b"x" * 1000)])
    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(backup.shutil, "disk_usage", lambda _path: usage(10**6, 10**6 - 100, 100))
    line = _one_line_refusal(_restore(app, path))
    assert "space" in line
    assert not (media_root / "avatar" / "a.jpg").exists()


def test_backup_survives_a_file_vanishing_meanwhile(app, tmp_path, media_root, monkeypatch):
    doomed = media_root / "item" / "gone.jpg"
    doomed.write_bytes(b"x")
    walk = backup._walk

    def walk_then_delete(root, prefix):
        found = walk(root, prefix)
        if doomed.exists():
            doomed.unlink()  # an item deleted (its photo removed) while the backup runs
        return found

    monkeypatch.setattr(backup, "_walk", walk_then_delete)
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["backup", "-o", str(tmp_path)])
    assert result.exit_code == 0, (result.output, result.exception)
    archive = next(p for p in tmp_path.iterdir() if p.name.startswith("foof-backup-"))
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "media/item/gone.jpg" not in names and "media/item/default.jpg" in names
    assert not list(tmp_path.glob("*.partial"))


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.FIFOTYPE, tarfile.CHRTYPE])
def test_links_and_devices_refuse_the_archive(app, tmp_path, media_root, kind):
    path = tmp_path / "links.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        data = json.dumps({"format": 1, "database": KIND, "created": "x", "files": 2}).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("media/avatar/link.jpg")
        link.type, link.linkname = kind, "/etc/passwd"
        tar.addfile(link)
        after = tarfile.TarInfo("media/avatar/link.jpg/../../../../x")
        after.size = 1
        tar.addfile(after, io.BytesIO(b"x"))
    line = _one_line_refusal(_restore(app, path))
    assert "not a regular file" in line
    assert not (media_root / "avatar" / "link.jpg").exists()


def test_a_member_named_twice_refuses_the_archive(app, tmp_path, media_root):
    path = _archive(tmp_path / "twice.tar.gz", [("media/avatar/a.jpg", b"1"), ("media/avatar/a.jpg", b"2")])
    assert "named twice" in _one_line_refusal(_restore(app, path))
    path = _archive(tmp_path / "nested.tar.gz", [("media/avatar/a", b"1"), ("media/avatar/a/b.jpg", b"2")])
    assert "a file and a folder" in _one_line_refusal(_restore(app, path))
    assert not (media_root / "avatar" / "a").exists()


@pytest.mark.parametrize("where", ["/nonexistent/dir/x.tar.gz", "/proc/x.tar.gz", "{tmp}/missing/x.tar.gz"])
def test_backup_to_a_folder_it_cannot_write_is_one_line(app, tmp_path, where):
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["backup", "-o", where.format(tmp=tmp_path)])
    line = _one_line_refusal(result)
    assert "x.tar.gz" in line
    assert not list(tmp_path.rglob("*.partial"))


def test_backup_to_a_name_that_is_not_utf8_prints_it(app, tmp_path):
    target = str(tmp_path) + "/backup-\udcff.tar.gz"  # a byte 0xff in the name, as the shell passes it
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["backup", "-o", target])
    assert result.exit_code == 0, (result.output, result.exception)
    assert os.path.exists(target) and "backup written to" in result.output
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600


def test_a_failed_backup_leaves_no_partial_archive(app, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(backup.tarfile.TarFile, "add", broken)
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["backup", "-o", str(tmp_path)])
    assert "No space left on device" in _one_line_refusal(result)
    assert not list(tmp_path.glob("foof-backup-*"))
