"""Issue #11 item 1: an upload's decoded image is bounded in memory, and so is the number of
decodes at once (foof/domain/media.py). The memory tests upload to a real server process and
read its peak resident size (VmHWM) from /proc."""

import http.client
import io
import os
import struct
import threading
import time
import urllib.parse
import zlib

import pytest
from PIL import Image

from foof.domain import media
from foof.domain.errors import NotAnImage
from tests.conftest import start_server, status_kb, stop_server

MB = 1024 * 1024


@pytest.fixture
def config(config, tmp_path):
    config["FOOF_UPLOAD_ROOT"] = str(tmp_path / "upload")  # REST uploads, as in test_rest
    return config


OK = {"status": "success"}
INVALID = {"status": "failure", "info": "invaild request"}


def png_of_zeros(width, height, color_type=6):
    """A PNG of zero bytes built row by row (never decoded here): 7000 × 7000 RGBA is
    196 MB decoded but 190 KB on the wire."""
    channels = {0: 1, 2: 3, 6: 4}[color_type]

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer = zlib.compressobj(9)
    row = b"\0" * (1 + width * channels)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def bomb():
    data = png_of_zeros(7000, 7000)
    assert len(data) < 200_000
    return data


@pytest.fixture(scope="module")
def camera_jpeg():
    """A 48 MP (8000 × 6000) baseline JPEG, as a phone camera writes, under 1 MiB."""
    im = Image.linear_gradient("L").resize((8000, 6000)).convert("RGB")
    out = io.BytesIO()
    im.save(out, "JPEG", quality=90)
    im.close()
    assert out.tell() < 1_040_000
    return out.getvalue()


def jpeg(size, **options):
    out = io.BytesIO()
    Image.linear_gradient("L").resize(size).convert("RGB").save(out, "JPEG", quality=90, **options)
    return out.getvalue()


# -- media.reencode in this process -------------------------------------------------------


def test_the_png_bomb_is_refused_before_decoding(bomb):
    with pytest.raises(NotAnImage):
        media.reencode(bomb, media.AVATAR_SIDE)


def test_non_jpeg_formats_up_to_the_pixel_budget(app):
    side = 2048  # MAX_DECODE_PIXELS = 2048 × 2048
    with app.app_context():
        out = Image.open(io.BytesIO(media.reencode(png_of_zeros(side, side), media.ITEM_SIDE)))
        assert out.size == (1600, 1600)
        assert out.getpixel((0, 0)) == (255, 255, 255)  # transparent → white
        with pytest.raises(NotAnImage):
            media.reencode(png_of_zeros(side, side + 1, color_type=2), media.ITEM_SIDE)


def test_a_48_megapixel_camera_jpeg_is_decoded_near_the_output_size(app, camera_jpeg, monkeypatch):
    decoded = []
    real_load = Image.Image.load

    def load(im):
        decoded.append(im.size)
        return real_load(im)

    monkeypatch.setattr(Image.Image, "load", load)
    with app.app_context():
        out = Image.open(io.BytesIO(media.reencode(camera_jpeg, media.ITEM_SIDE)))
    assert out.size == (1600, 1200)
    # libjpeg decoded it at 1/4 scale (2000 × 1500), not at 8000 × 6000.
    assert max(w * h for w, h in decoded) == 2000 * 1500


def test_a_phone_jpeg_with_a_second_picture_is_a_jpeg(app):
    """Pillow opens a JPEG carrying an MPF second image (depth map, stereo) as "MPO"."""
    out = io.BytesIO()
    Image.linear_gradient("L").resize((4000, 3000)).convert("RGB").save(
        out, "MPO", save_all=True, append_images=[Image.new("RGB", (400, 300))]
    )
    assert Image.open(io.BytesIO(out.getvalue())).format == "MPO"
    with app.app_context():
        result = Image.open(io.BytesIO(media.reencode(out.getvalue(), media.ITEM_SIDE)))
    assert result.size == (1600, 1200)


def test_the_jpeg_scale_never_loses_output_pixels():
    assert media._jpeg_scale(8000, 1600) == 4  # 2000 px decoded
    assert media._jpeg_scale(3199, 1600) == 2  # ceil(3199 / 2) = 1600
    assert media._jpeg_scale(3000, 1600) == 1
    assert media._jpeg_scale(1000, 1600) == 1
    assert media._jpeg_scale(20000, 1024) == 8


def test_a_huge_progressive_jpeg_is_refused_a_normal_one_accepted(app):
    # Progressive JPEGs keep every coefficient of the canvas whatever the scale: 48 MP of
    # them is ~144 MB, so beyond 48 MiB of coefficients the upload is not an image for us.
    with app.app_context():
        with pytest.raises(NotAnImage):
            media.reencode(jpeg((8000, 6000), progressive=True), media.ITEM_SIDE)
        out = Image.open(io.BytesIO(media.reencode(jpeg((4000, 3000), progressive=True), media.ITEM_SIDE)))
        assert out.size == (1600, 1200)


def test_orientation_is_applied_after_shrinking(app):
    im = Image.new("RGB", (4000, 2000), (0, 0, 255))
    im.paste((255, 0, 0), (0, 0, 400, 400))  # red in the stored top-left corner
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    out = io.BytesIO()
    im.save(out, "JPEG", quality=95, exif=exif.tobytes())
    with app.app_context():
        result = Image.open(io.BytesIO(media.reencode(out.getvalue(), media.AVATAR_SIDE)))
    assert result.size == (512, 1024)
    assert not result.getexif()
    red, _, blue = result.getpixel((500, 10))  # now the top-right corner
    assert red > 200 and blue < 60


def test_decodes_at_once_are_bounded_by_the_setting(config, monkeypatch):
    from foof import create_app

    config["FOOF_IMAGE_DECODES"] = 2
    app = create_app(config)
    running, most, lock = [0], [0], threading.Lock()
    real_shrink = media._shrink

    def slow_shrink(im, side, data=b""):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.1)
        try:
            return real_shrink(im, side, data)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(media, "_shrink", slow_shrink)
    data = jpeg((64, 64))

    def work():
        with app.app_context():
            media.reencode(data, 32)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 2


def test_a_negative_decode_count_is_refused(config):
    from foof import create_app

    config["FOOF_IMAGE_DECODES"] = -1
    with pytest.raises(ValueError, match="FOOF_IMAGE_DECODES"):
        create_app(config)


@pytest.mark.parametrize(
    "method,route",
    [
        ("PATCH", "/users/detial/avatar"),
        ("POST", "/users/detail/studentcard"),
        ("POST", "/products/img/{pid}"),
    ],
)
def test_every_rest_upload_route_refuses_the_bomb(app, bomb, method, route):
    from tests.test_rest import Person, assert_refused, upload, upload_files

    seller = Person(app, "seller")
    path = route.format(pid=seller.add_product())
    assert_refused(upload(seller.client, method, path, bomb), 6002)
    assert upload_files(app) == []


def test_every_legacy_upload_route_refuses_the_bomb(client, user, make_item, item_row, media_root, bomb):
    from tests.test_items import upload as item_upload

    uuid, token = user
    itemid = make_item(uuid)
    assert item_upload(client, token, itemid, [("file", bomb, "a.png")]).json == INVALID
    assert item_row(itemid)["imgurl"] == "image/item/default.jpg"
    reply = client.post(
        "/user/avatar", data={"token": token, "file": (io.BytesIO(bomb), "a.png")}, content_type="multipart/form-data"
    )
    assert reply.json == INVALID
    assert sorted(os.listdir(media_root / "item")) == sorted(os.listdir(media_root / "avatar")) == ["default.jpg"]


# -- a real server process --------------------------------------------------------------


def upload(url, token, data, path="/user/avatar"):
    boundary = "----foofmemory"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="token"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        reply = conn.getresponse()
        import json

        return reply.status, json.loads(reply.read())
    finally:
        conn.close()


@pytest.fixture
def server(app, config, user):
    proc, url = start_server(config)
    try:
        # Warm up: Pillow's plugins imported, a first decode done, the allocator settled.
        for _ in range(2):
            assert upload(url, user[1], jpeg((1200, 900))) == (200, OK)
        yield proc, url, user[1]
    finally:
        stop_server(proc)


def growth_mb(proc, before_kb):
    return (status_kb(proc.pid, "VmHWM") - before_kb) / 1024


def test_one_png_bomb_upload_grows_the_server_by_under_100_mb(server, bomb):
    proc, url, token = server
    before = status_kb(proc.pid, "VmRSS")
    assert upload(url, token, bomb) == (200, INVALID)
    grew = growth_mb(proc, before)
    print(f"one 7000x7000 PNG upload: peak RSS grew {grew:.1f} MB")
    assert grew < 100


def test_four_png_bomb_uploads_at_once_grow_the_server_by_under_100_mb(server, bomb):
    proc, url, token = server
    before = status_kb(proc.pid, "VmRSS")
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(upload(url, token, bomb))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [(200, INVALID)] * 4
    grew = growth_mb(proc, before)
    print(f"four 7000x7000 PNG uploads at once: peak RSS grew {grew:.1f} MB")
    assert grew < 100


def test_four_48_megapixel_jpegs_at_once_are_accepted_within_100_mb(server, camera_jpeg):
    proc, url, token = server
    before = status_kb(proc.pid, "VmRSS")
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(upload(url, token, camera_jpeg))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [(200, OK)] * 4
    grew = growth_mb(proc, before)
    print(f"four 48 MP JPEG uploads at once: peak RSS grew {grew:.1f} MB")
    assert grew < 100


def test_four_largest_accepted_pngs_at_once_stay_within_150_mb(server):
    proc, url, token = server
    data = png_of_zeros(2048, 2048)  # RGBA at the pixel budget, flattened on white
    before = status_kb(proc.pid, "VmRSS")
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(upload(url, token, data))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [(200, OK)] * 4
    grew = growth_mb(proc, before)
    print(f"four 2048x2048 RGBA PNG uploads at once: peak RSS grew {grew:.1f} MB")
    # ~40 MB a decode (the RGBA copy, its flattened copy, the resize's two) × 2 at once on
    # two cores, plus the allocator's slack: measured 89-105 MB; unbounded it was ~300.
    assert grew < 150


# -- baseline JPEGs in several scans (found by attacking the change) ------------------------


def _segment(marker, payload):
    return bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload


def grey_blocks_jpeg(side, scans):
    """A baseline 4:4:4 JPEG of ``side``×``side`` whose three components are coded either in
    one interleaved scan (``scans=1``) or one scan each (``scans=3``): every block has a DC
    difference of 0 and an immediate end of block, so the file stays small."""
    dc_bits, dc_values = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0], bytes(range(12))
    # A one-symbol AC table: end of block (0x00), coded "0".
    ac_bits, ac_values = [1] + [0] * 15, b"\x00"
    out = b"\xff\xd8" + _segment(0xDB, b"\x00" + bytes([1] * 64))
    out += _segment(0xC0, bytes([8]) + side.to_bytes(2, "big") * 2 + bytes([3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0]))
    out += _segment(0xC4, b"\x00" + bytes(dc_bits) + dc_values + b"\x10" + bytes(ac_bits) + ac_values)
    blocks = ((side + 7) // 8) ** 2

    def data(count):  # per block: DC category 0 = "00", EOB = "0": 3 bits
        bits = "000" * count
        bits += "1" * (-len(bits) % 8)
        return int(bits, 2).to_bytes(len(bits) // 8, "big").replace(b"\xff", b"\xff\x00")

    if scans == 1:
        out += _segment(0xDA, bytes([3, 1, 0, 2, 0, 3, 0, 0, 63, 0])) + data(3 * blocks)
    else:
        for component in (1, 2, 3):
            out += _segment(0xDA, bytes([1, component, 0, 0, 63, 0])) + data(blocks)
    return out + b"\xff\xd9"


def test_several_scans_are_seen_but_not_an_exif_thumbnail():
    small = Image.new("RGB", (64, 64), (10, 200, 30))
    plain, progressive = io.BytesIO(), io.BytesIO()
    small.save(plain, "JPEG")
    small.save(progressive, "JPEG", progressive=True)
    base = plain.getvalue()
    thumbnail = _segment(0xE1, b"Exif\x00\x00" + base)  # a thumbnail carries its own scan
    assert not media._several_scans(base)
    assert not media._several_scans(base[:2] + thumbnail + base[2:])
    assert media._several_scans(progressive.getvalue())
    assert not media._several_scans(grey_blocks_jpeg(64, 1))
    assert media._several_scans(grey_blocks_jpeg(64, 3))


def test_a_huge_baseline_jpeg_in_one_scan_per_component_is_refused():
    # 7000×7000 4:4:4 in three scans: libjpeg keeps every coefficient of the canvas
    # (~290 MB) whatever the scaling, like a progressive file.
    with pytest.raises(NotAnImage):
        media.reencode(grey_blocks_jpeg(7000, 3), media.AVATAR_SIDE)
    # The same canvas in one interleaved scan is decoded at 1/8 scale: accepted.
    assert media.reencode(grey_blocks_jpeg(7000, 1), media.AVATAR_SIDE)[:2] == b"\xff\xd8"
