"""Legacy /item routes: add (echo), query, modify, delete, images."""

import io
import os

import pytest
from PIL import Image

from tests.conftest import post_json

OK = {"status": "success"}
INVALID = {"status": "failure", "info": "invaild request"}
FIELDS = {
    "title": "未命名商品1",
    "type": "1",
    "price": "1.23",
    "depreciatione": "99",
    "note": "然而并没什么描述",
    "sold": "-1",
}


def image(fmt="PNG", size=(80, 60)):
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, fmt)
    return out.getvalue()


def upload(client, token, itemid, parts):
    """``parts``: list of (field name, bytes, filename)."""
    data = {"token": token, "itemid": str(itemid)}
    files = [(name, (io.BytesIO(content), filename)) for name, content, filename in parts]
    from werkzeug.datastructures import MultiDict

    body = MultiDict(list(data.items()) + files)
    return client.post("/item/image", data=body, content_type="multipart/form-data")


def test_add_form_echo_is_the_contract_example(client, user):
    _, token = user
    reply = client.post(
        "/item/add",
        data={"token": token, "title": "1", "type": "1", "price": "1", "depreciatione": "1", "note": "1", "sold": "1"},
    )
    assert reply.data.decode() == (
        '{"status":"success","data":{"itemid":1,"title":"1","type":"1","price":"1","depreciatione":"1",'
        '"note":"1","sold":"1","uuid":1,"imgurl":"image/item/default.jpg","to":0}}'
    )


def test_add_json_keeps_client_order_and_types(client, user):
    _, token = user
    body = {
        "token": token,
        "sold": 1,
        "note": "东门自提",
        "price": 29.9,
        "title": "小米充电宝",
        "to": 77,
        "depreciatione": 9,
        "type": 1,
        "uuid": 999,
    }
    reply = post_json(client, "/item/add", body)
    assert reply.data.decode() == (
        '{"status":"success","data":{"itemid":1,"sold":1,"note":"东门自提","price":29.9,"title":"小米充电宝",'
        '"to":0,"depreciatione":9,"type":1,"uuid":1,"imgurl":"image/item/default.jpg"}}'
    )


def test_add_stores_server_values(client, user, item_row):
    uuid, token = user
    client.post(
        "/item/add", data={"token": token, **FIELDS, "itemid": "50", "uuid": "9", "imgurl": "../../x", "to": "3"}
    )
    row = item_row(1)
    assert (row["uuid"], row["imgurl"], row["to"], row["sold"], row["price"]) == (
        uuid,
        "image/item/default.jpg",
        0,
        -1,
        1.23,
    )
    assert item_row(50) is None


@pytest.mark.parametrize(
    "change",
    [
        {"title": ""},
        {"title": "x" * 256},
        {"type": "abc"},
        {"type": "1.5"},
        {"price": "-1"},
        {"price": "abc"},
        {"price": "NaN"},
        {"price": "Infinity"},
        {"price": "1e400"},
        {"depreciatione": "x"},
        {"note": "n" * 256},
        {"sold": "2"},
        {"sold": "3"},
        {"sold": ""},
        {"type": "99999999999"},
    ],
)
def test_add_validation(client, user, change, item_row):
    _, token = user
    assert client.post("/item/add", data={"token": token, **FIELDS, **change}).json == INVALID
    assert item_row(1) is None


@pytest.mark.parametrize("missing", ["title", "type", "price", "depreciatione", "sold"])
def test_add_missing_field(client, user, missing):
    body = {k: v for k, v in FIELDS.items() if k != missing}
    assert client.post("/item/add", data={"token": user[1], **body}).json == INVALID


@pytest.mark.parametrize("value", [[1], {"a": 1}, None, True])
def test_add_json_wrong_types(client, user, value):
    assert post_json(client, "/item/add", {"token": user[1], **FIELDS, "title": value}).json == INVALID


def test_query(client, make_item, user):
    itemid = make_item(user[0], price=987.0, title="432", type=798, note="987", sold=2, to=None)
    assert client.get(f"/item/{itemid}").data.decode() == (
        '{"itemid":1,"uuid":1,"title":"432","type":798,"price":987,"imgurl":"image/item/default.jpg",'
        '"depreciatione":99,"note":"987","sold":2,"to":null,"status":"success"}'
    )
    assert client.get("/item/999").data == b'{"status":"none"}'
    assert client.get("/item/abc").data == b'{"status":"none"}'


def test_query_deleted_is_none(client, make_item, user):
    itemid = make_item(user[0], sold=4)
    assert client.get(f"/item/{itemid}").json == {"status": "none"}


def test_modify(client, make_item, user, item_row):
    itemid = make_item(user[0])
    reply = client.post(
        "/item/modify",
        data={
            "token": user[1],
            "itemid": str(itemid),
            "title": "小米充电宝",
            "type": "2",
            "price": "299.9",
            "imgurl": "hack",
            "depreciatione": "98",
            "note": "一块钱四个",
            "sold": "-1",
        },
    )
    assert reply.json == OK
    row = item_row(itemid)
    assert (row["title"], row["type"], row["price"], row["note"], row["sold"], row["imgurl"]) == (
        "小米充电宝",
        2,
        299.9,
        "一块钱四个",
        1,
        "image/item/default.jpg",
    )


def test_modify_not_owner_or_missing_is_forbidden(client, make_item, make_user, token_for, user, item_row):
    itemid = make_item(user[0])
    other = token_for(make_user("2", "pw"))
    for token, target in ((other, itemid), (user[1], 999), (user[1], "abc")):
        reply = client.post("/item/modify", data={"token": token, "itemid": str(target), "title": "x"})
        assert (reply.status_code, reply.data) == (403, b"Forbidden")
    assert item_row(itemid)["title"] == "未命名商品"


def test_modify_invalid_value(client, make_item, user, item_row):
    itemid = make_item(user[0])
    reply = client.post("/item/modify", data={"token": user[1], "itemid": str(itemid), "title": "ok", "price": "-5"})
    assert reply.data == b'{"status":"false"}'
    assert item_row(itemid)["title"] == "未命名商品"


def test_delete(client, make_item, user, item_row, make_user, token_for):
    itemid = make_item(user[0])
    want = make_item(user[0], sold=-1)
    other = token_for(make_user("2", "pw"))
    refused = {"status": "failure", "info": "invaild requestno such item"}
    assert client.post("/item/delete", data={"token": other, "itemid": str(itemid)}).json == refused
    assert client.post("/item/delete", data={"token": user[1], "itemid": "999"}).json == refused
    assert client.post("/item/delete", data={"token": user[1], "itemid": str(itemid)}).json == OK
    assert client.post("/item/delete", data={"token": user[1], "itemid": str(want)}).json == OK
    assert (item_row(itemid)["sold"], item_row(want)["sold"]) == (4, -4)
    assert client.post("/item/delete", data={"token": user[1], "itemid": str(itemid)}).json == refused
    assert client.post("/user/published", data={"uuid": str(user[0])}).data == b"[]"


def test_images_repeated_file_parts(client, make_item, user, item_row, media_root):
    uuid, token = user
    itemid = make_item(uuid)
    reply = upload(client, token, itemid, [("file", image(), "a.png"), ("file", image("JPEG"), "b.jpg")])
    assert reply.data.decode() == (
        f'{{"status":"success","imgurl":["image/item/{uuid}-{itemid}-0.jpg","image/item/{uuid}-{itemid}-1.jpg"]}}'
    )
    assert item_row(itemid)["imgurl"] == f"image/item/{uuid}-{itemid}-0.jpg++image/item/{uuid}-{itemid}-1.jpg++"
    for n in (0, 1):
        with client.get(f"/image/item/{uuid}-{itemid}-{n}.jpg") as served:
            assert Image.open(io.BytesIO(served.data)).format == "JPEG"


def test_images_numbered_fields_and_empty_parts(client, make_item, user, item_row):
    uuid, token = user
    itemid = make_item(uuid)
    parts = [
        ("file0", image(), "a.png"),
        ("file1", b"", "empty.png"),
        ("file2", image("GIF"), "c.gif"),
        ("file3", image("WEBP"), "d.webp"),
    ]
    assert upload(client, token, itemid, parts).json["imgurl"] == [
        f"image/item/{uuid}-{itemid}-{n}.jpg" for n in range(3)
    ]


def test_images_replace_removes_stale_files(client, make_item, user, media_root, item_row):
    uuid, token = user
    itemid = make_item(uuid)
    upload(client, token, itemid, [("file", image(), f"{n}.png") for n in range(4)])
    assert len(os.listdir(media_root / "item")) == 5
    upload(client, token, itemid, [("file", image(), "x.png")])
    assert sorted(os.listdir(media_root / "item")) == [f"{uuid}-{itemid}-0.jpg", "default.jpg"]
    assert client.post("/item/delete", data={"token": token, "itemid": str(itemid)}).json == OK
    assert sorted(os.listdir(media_root / "item")) == ["default.jpg"]


@pytest.mark.parametrize(
    "parts",
    [
        [],
        [("file", b"", "empty.png")],
        [("file", image(), f"{n}.png") for n in range(5)],
        [("file", image(), "a.png"), ("file", b"just text", "b.jpg")],
        [("file", image()[:60], "truncated.png")],
        [("file", b"GIF89a<script>alert(1)</script>", "poly.gif")],
    ],
)
def test_images_refused_change_nothing(client, make_item, user, item_row, media_root, parts):
    uuid, token = user
    itemid = make_item(uuid)
    assert upload(client, token, itemid, parts).json == INVALID
    assert item_row(itemid)["imgurl"] == "image/item/default.jpg"
    assert sorted(os.listdir(media_root / "item")) == ["default.jpg"]


def test_images_not_owner(client, make_item, user, make_user, token_for, item_row):
    itemid = make_item(user[0])
    other = token_for(make_user("2", "pw"))
    assert upload(client, other, itemid, [("file", image(), "a.png")]).json == INVALID
    assert upload(client, user[1], 999, [("file", image(), "a.png")]).json == INVALID
    assert item_row(itemid)["imgurl"] == "image/item/default.jpg"


def test_images_body_over_limit(client, make_item, user, item_row, media_root):
    uuid, token = user
    itemid = make_item(uuid)
    boundary = "----foof"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="token"\r\n\r\n{token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="itemid"\r\n\r\n{itemid}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    limit = 10 * 1024 * 1024  # FOOF_MAX_PHOTO_UPLOAD_BYTES: photo uploads have their own limit
    body = head + b"\0" * (limit + 1 - len(head) - len(tail)) + tail
    reply = client.post("/item/image", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert (reply.status_code, reply.data) == (413, b"Request Entity Too Large")
    assert item_row(itemid)["imgurl"] == "image/item/default.jpg"
    assert sorted(os.listdir(media_root / "item")) == ["default.jpg"]
