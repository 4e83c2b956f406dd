"""Image validation, re-encoding and atomic writes.

Every upload is decoded with Pillow (JPEG, PNG, GIF, WebP or BMP only), refused when it is
not an image, truncated, or a decompression bomb, then re-encoded as a fresh JPEG: no EXIF
(phone photos carry GPS), orientation applied, long side capped. The bytes written are
always ours, never the client's, so a polyglot or an HTML file named ``.jpg`` cannot be
served back. Files are written to a temporary name and renamed into place; old files are
removed only after the database committed.
"""
import io
import logging
import os
import tempfile
import warnings

from PIL import Image, ImageOps

from foof.domain.errors import NotAnImage

log = logging.getLogger(__name__)

FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP")
#: Far above any phone camera (48 MP) yet refuses "tiny file, huge canvas" bombs.
MAX_PIXELS = 50_000_000
AVATAR_SIDE = 1024
ITEM_SIDE = 1600


def reencode(data, max_side):
    """JPEG bytes of the image in ``data``, at most ``max_side`` px on its long side."""
    if not data:
        raise NotAnImage()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=FORMATS) as im:
                width, height = im.size
                if width < 1 or height < 1 or width * height > MAX_PIXELS:
                    raise NotAnImage()
                im.load()
                im = ImageOps.exif_transpose(im)
                im = _flatten(im)
                im.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
                out = io.BytesIO()
                im.save(out, "JPEG", quality=85, optimize=True)
    except NotAnImage:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError,
            Image.DecompressionBombWarning, EOFError, MemoryError) as exc:
        raise NotAnImage() from exc
    return out.getvalue()


def _flatten(im):
    """RGB without alpha: transparent parts become white rather than black."""
    if im.mode in ("RGBA", "LA") or (im.mode == "P" and "transparency" in im.info):
        im = im.convert("RGBA")
        background = Image.new("RGB", im.size, (255, 255, 255))
        background.paste(im, mask=im.getchannel("A"))
        return background
    return im.convert("RGB")


def media_path(root, relative):
    """Absolute path of ``relative`` (``avatar/x.jpg``) under ``root``; refuses escapes."""
    path = os.path.realpath(os.path.join(root, relative))
    if not path.startswith(os.path.realpath(root) + os.sep):
        raise NotAnImage()
    return path


def write_atomic(root, relative, data):
    """Write ``data`` to ``root/relative`` so readers see the old file or the new, never half."""
    path = media_path(root, relative)
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def remove_quietly(root, relatives):
    """Delete files after a commit; a file already gone is not an error."""
    for relative in relatives:
        try:
            os.unlink(media_path(root, relative))
        except (OSError, NotAnImage) as exc:
            if not isinstance(exc, FileNotFoundError):
                log.warning("could not remove media file %s: %s", relative, exc)
