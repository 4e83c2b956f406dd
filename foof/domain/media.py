"""Image validation, re-encoding and atomic writes.

Every upload is decoded with Pillow (JPEG, PNG, GIF, WebP or BMP only), refused when it is
not an image, truncated, or too large a canvas, then re-encoded as a fresh JPEG: no EXIF
(phone photos carry GPS), orientation applied, long side capped. The bytes written are
always ours, never the client's, so a polyglot or an HTML file named ``.jpg`` cannot be
served back. Files are written to a temporary name and renamed into place; old files are
removed only after the database committed.

Memory: a decoded image costs Pillow 4 bytes a pixel (1 for palette and grey), whatever the
file's size — a 190 KB PNG of zeros can be a 7000×7000 canvas, 196 MB decoded. So a JPEG is
decoded straight to near the output size (libjpeg's 1/2, 1/4 or 1/8 scaling, ``draft``),
never more than twice the output's side; other formats cannot be decoded smaller, and are
refused beyond :data:`MAX_DECODE_PIXELS` (one decoded copy ≤ 16 MiB). One copy is worked on:
the opened image is shrunk in place, flattened, and closed as soon as a smaller one exists.
At most ``FOOF_IMAGE_DECODES`` images (0 = the number of cores) are decoded at once; more
uploads wait their turn.
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from foof.domain.errors import NotAnImage

if TYPE_CHECKING:
    from PIL import Image

log = logging.getLogger(__name__)

FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP")
#: Pillow names a JPEG holding more pictures (a phone's depth map, a stereo pair) MPO; the
#: first picture is an ordinary JPEG.
JPEG_FORMATS = ("JPEG", "MPO")
#: A JPEG's canvas: above any phone camera (48 MP); it is decoded at 1/8 to 1/1 scale, so
#: this bounds only what libjpeg reads, not what is decoded.
MAX_JPEG_PIXELS = 50_000_000
#: A progressive JPEG is decoded from coefficients held for the whole canvas (not scaled):
#: 48 MiB of them, e.g. 16 MP of a common 4:2:0 photo, 8 MP at 4:4:4.
MAX_COEFFICIENT_BYTES = 48 * 1024 * 1024
#: Formats decoded at full size (PNG, GIF, WebP, BMP): 2048 × 2048, 16 MiB at 4 bytes a
#: pixel. Every phone screenshot up to 1440 × 2912 fits.
MAX_DECODE_PIXELS = 2048 * 2048
AVATAR_SIDE = 1024
ITEM_SIDE = 1600

#: EXIF orientation → the name of the transpose that shows the picture upright.
_ORIENTATION: dict[int | None, str] = {
    2: "FLIP_LEFT_RIGHT",
    3: "ROTATE_180",
    4: "FLIP_TOP_BOTTOM",
    5: "TRANSPOSE",
    6: "ROTATE_270",
    7: "TRANSVERSE",
    8: "ROTATE_90",
}


def _pil() -> Any:
    """``PIL.Image``, imported on the first upload rather than with the app: Pillow's modules
    and libraries cost 2.2 MB of resident memory that a server seldom given a photo need
    not hold (docs/passwords-and-memory.md)."""
    from PIL import Image

    return Image


_WHITE = (255, 255, 255)


def decode_slots(count: int | str) -> threading.BoundedSemaphore:
    """The semaphore bounding decodes at once: ``count`` of them, 0 = the number of cores."""
    count = int(count)
    if count < 0:
        raise ValueError(f"FOOF_IMAGE_DECODES must be 0 (= cores) or more, not {count}")
    return threading.BoundedSemaphore(count or os.cpu_count() or 1)


_default_slots = decode_slots(0)


def _slots() -> threading.BoundedSemaphore:
    """The app's decode semaphore (created with the app), or the module's outside one."""
    from flask import current_app

    try:
        return current_app.extensions["foof.image_decodes"]
    except (RuntimeError, KeyError):  # no app context, or an app built without it
        return _default_slots


def reencode(data: bytes, max_side: int) -> bytes:
    """JPEG bytes of the image in ``data``, at most ``max_side`` px on its long side."""
    if not data:
        raise NotAnImage()
    pil = _pil()
    try:
        with _slots(), warnings.catch_warnings():
            warnings.simplefilter("error", pil.DecompressionBombWarning)
            small: Image.Image
            im = small = pil.open(io.BytesIO(data), formats=FORMATS)
            try:
                small = _shrink(im, max_side, data)
                out = io.BytesIO()
                small.save(out, "JPEG", quality=85, optimize=True)
            finally:
                small.close()
                im.close()
    except NotAnImage:
        raise
    except (
        OSError,
        ValueError,
        SyntaxError,
        pil.DecompressionBombError,
        pil.DecompressionBombWarning,
        EOFError,
        MemoryError,
    ) as exc:
        raise NotAnImage() from exc
    return out.getvalue()


def _shrink(im: Image.Image, max_side: int, data: bytes = b"") -> Image.Image:
    """An RGB image at most ``max_side`` on its long side, upright, from the opened ``im``,
    holding one decoded copy at a time (``im`` may be emptied; the caller closes it)."""
    width, height = im.size
    if width < 1 or height < 1:
        raise NotAnImage()
    if im.format in JPEG_FORMATS:
        if width * height > MAX_JPEG_PIXELS or (
            (im.info.get("progressive") or _several_scans(data)) and _coefficient_bytes(im) > MAX_COEFFICIENT_BYTES
        ):
            raise NotAnImage()
        scale = _jpeg_scale(max(width, height), max_side)
        if scale > 1:
            im.draft(None, (width // scale, height // scale))
        # Decoded under twice the output's side — unless libjpeg could not scale it.
        if im.size[0] * im.size[1] > 4 * max_side * max_side:
            raise NotAnImage()
    elif width * height > MAX_DECODE_PIXELS:
        raise NotAnImage()
    pil = _pil()
    turn = _ORIENTATION.get(_orientation(im))
    im.load()
    flat = _flatten(im)
    flat.thumbnail((max_side, max_side), pil.Resampling.LANCZOS)
    if turn is not None:
        upright = flat.transpose(pil.Transpose[turn])
        flat.close()
        flat = upright
    return flat


def _jpeg_scale(long_side: int, max_side: int) -> int:
    """The largest of libjpeg's 1/8, 1/4, 1/2 scalings that still decodes at least
    ``max_side`` on the long side (so the output loses nothing): the decoded copy is
    under twice the output's side."""
    for scale in (8, 4, 2):
        if -(-long_side // scale) >= max_side:
            return scale
    return 1


def _several_scans(data: bytes) -> bool:
    """Whether a JPEG's entropy-coded data comes in more than one scan. A baseline JPEG may
    too (one scan per colour component, non-interleaved), and then libjpeg holds every
    coefficient of the canvas just as for a progressive one, whatever the scaling (a
    1.7 MB 7000×7000 file took ~300 MB). The markers are walked from the start: segments
    before the first scan (an EXIF thumbnail's own scan lives inside APP1) are skipped by
    their length; inside entropy-coded data a 0xFF byte is followed by 0x00 (stuffing) or a
    restart marker, so the next other marker ends the scan."""
    pos, end, scans = 2, len(data), 0
    if data[:2] != b"\xff\xd8":
        return False
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            return False  # not where a marker must be: let the decoder judge the file
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:  # end of image
            break
        length = (data[pos + 2] << 8) | data[pos + 3]
        pos += 2 + length
        if marker != 0xDA:
            continue
        scans += 1
        if scans > 1:
            return True
        while pos + 1 < end:  # the scan's entropy-coded data
            if data[pos] == 0xFF and data[pos + 1] != 0x00 and not 0xD0 <= data[pos + 1] <= 0xD7:
                break
            pos += 1
    return False


def _coefficient_bytes(im: Image.Image) -> int:
    """What libjpeg holds for a progressive JPEG whatever the scaling: every DCT
    coefficient of the whole canvas, 2 bytes per sample of each component."""
    layers = getattr(im, "layer", None) or [(None, 1, 1, None)] * len(im.getbands())
    most = max(h * v for _, h, v, _ in layers) or 1
    samples = sum(h * v for _, h, v, _ in layers) / most
    return int(im.size[0] * im.size[1] * 2 * samples)


def _orientation(im: Image.Image) -> int | None:
    """The EXIF (or XMP) orientation tag, None when absent or unreadable: a broken EXIF
    block costs the rotation, not the upload."""
    from PIL import ExifTags

    try:
        return im.getexif().get(ExifTags.Base.Orientation)
    except Exception:  # noqa: BLE001 - Pillow's EXIF parser raises many kinds
        return None


def _flatten(im: Image.Image) -> Image.Image:
    """RGB without alpha: transparent parts become white rather than black. Returns ``im``
    itself when it is already RGB; otherwise a new image, and ``im`` is closed (freed)."""
    if im.mode in ("RGBA", "LA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im if im.mode == "RGBA" else im.convert("RGBA")
        if rgba is not im:
            im.close()
        flat = _pil().new("RGB", rgba.size, _WHITE)
        flat.paste(rgba, (0, 0), rgba)  # an RGBA mask: its alpha band
        rgba.close()
        return flat
    if im.mode == "RGB":
        return im
    flat = im.convert("RGB")
    im.close()
    return flat


def media_path(root: str, relative: str) -> str:
    """Absolute path of ``relative`` (``avatar/x.jpg``) under ``root``; refuses escapes."""
    path = os.path.realpath(os.path.join(root, relative))
    if not path.startswith(os.path.realpath(root) + os.sep):
        raise NotAnImage()
    return path


def write_atomic(root: str, relative: str, data: bytes) -> str:
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


def remove_quietly(root: str, relatives: Iterable[str]) -> None:
    """Delete files after a commit; a file already gone is not an error."""
    for relative in relatives:
        try:
            os.unlink(media_path(root, relative))
        except (OSError, NotAnImage) as exc:
            if not isinstance(exc, FileNotFoundError):
                log.warning("could not remove media file %s: %s", relative, exc)
