"""Values on the legacy wire as the real app sends them (issue #12 items 3, 7, 8 and 9).

The app posts JSON bodies with JSON types: ``depreciatione`` may be ``"9.5"`` or ``9.5``,
``phonenumber`` may be a JSON number, ``verifycode`` a JSON number (``851`` for the code
``"0851"``), ``price`` anything finite from 0 up (``1e21``). Bodies are sent as raw bytes,
so that exactly the app's JSON (``1e21``, ``13800000009``, ``1.38e10``) reaches the server.
Every refusal is checked to leave the tables unchanged.
"""

import json

import pytest
from sqlalchemy import select

from foof.extensions import db
from foof.models import User, VerifyCode
from tests.conftest import table_snapshot

INVALID = b'{"status":"failure","info":"invaild request"}'
BAD_REQUEST = b'{"status":"failure","info":"bad request"}'
BAD_CODE = b'{"status":"failure","info":"bad verify code"}'
SUCCESS = b'{"status":"success"}'
FALSE = b'{"status":"false"}'
PASSWORD = "fc169f0946e3debe7a0a38a85f575c075ca75f6d"  # SHA-1 hex, as the app sends it
PHONE = 13800000009


def send(client, path, raw, ip="10.0.0.1"):
    """POST the JSON text ``raw`` byte for byte (the app's own number spellings kept)."""
    return client.post(path, data=raw.encode(), content_type="application/json", environ_base={"REMOTE_ADDR": ip})


def body(**fields):
    return json.dumps(fields, ensure_ascii=False)


def item_json(token, **fields):
    """An /item/add body as raw JSON; values given as strings are spliced in verbatim."""
    values = {
        "title": '"九成新小米充电宝"',
        "type": "1",
        "price": "39.9",
        "depreciatione": "90",
        "note": '"东门自提"',
        "sold": "1",
    }
    values.update(fields)
    return "{" + f'"token":"{token}",' + ",".join(f'"{k}":{v}' for k, v in values.items()) + "}"


def added(reply):
    assert reply.status_code == 200, reply.get_data()
    answer = json.loads(reply.get_data())
    assert answer["status"] == "success", answer
    return answer["data"]["itemid"]


def get_item(client, itemid):
    reply = client.get(f"/item/{itemid}")
    assert reply.status_code == 200 and reply.headers["Content-Type"] == "application/json; charset=utf-8"
    return reply.get_data().decode()


def flask_only(app):
    """A client of the same app without the hot path (foof/legacy/hot.py) in front."""
    from werkzeug.test import Client

    from foof.legacy.hot import HotPath

    hot = app.wsgi_app
    while not isinstance(hot, HotPath):  # ProxyFix may sit outside it
        hot = hot.app
    return Client(hot.next)


def stored_item(itemid, price, depreciatione, title="九成新小米充电宝"):
    return (
        f'{{"itemid":{itemid},"uuid":1,"title":"{title}","type":1,"price":{price},'
        f'"imgurl":"image/item/default.jpg","depreciatione":{depreciatione},"note":"东门自提",'
        f'"sold":1,"to":0,"status":"success"}}'
    )


# ------------------------------------------------------------ item 3: 新旧程度 "9.5"


def test_depreciation_string_fraction_is_accepted_echoed_as_sent_stored_rounded(client, user):
    _, token = user
    reply = send(client, "/item/add", item_json(token, depreciatione='"9.5"'))
    assert reply.get_data().decode() == (
        '{"status":"success","data":{"itemid":1,"title":"九成新小米充电宝","type":1,"price":39.9,'
        '"depreciatione":"9.5","note":"东门自提","sold":1,"uuid":1,"imgurl":"image/item/default.jpg","to":0}}'
    )
    assert get_item(client, 1) == stored_item(1, "39.9", 10)


def test_depreciation_number_fraction_is_accepted_echoed_as_sent_stored_rounded(client, user):
    _, token = user
    reply = send(client, "/item/add", item_json(token, depreciatione="9.5"))
    assert '"depreciatione":9.5,' in reply.get_data().decode()
    assert get_item(client, added(reply)) == stored_item(1, "39.9", 10)


def test_depreciation_fraction_from_a_form(client, user, item_row):
    _, token = user
    reply = client.post(
        "/item/add",
        data={
            "token": token,
            "title": "台灯",
            "type": "5",
            "price": "12.5",
            "depreciatione": "9.5",
            "note": "",
            "sold": "1",
        },
    )
    assert '"depreciatione":"9.5",' in reply.get_data().decode()
    assert item_row(added(reply))["depreciatione"] == 10


#: Half away from zero (Math.round for these non-negative values), applied to the value as
#: a double: the spelling a JSON parser reads is the number that is rounded.
ROUNDED = [
    ("0", 0),
    ("0.4", 0),
    ("0.5", 1),
    ("1.5", 2),
    ("2.5", 3),
    ("10.5", 11),
    ("9.49", 9),
    ("99.5", 100),
    ("100", 100),
    ("100.0", 100),
    ("0.49999999999999994", 0),
    ("1e1", 10),
    ("-0", 0),
    ("-0.0", 0),
    ('"2.5"', 3),
    ('"0.5"', 1),
    ('" 9.5 "', 10),
    ('"100"', 100),
    ('"1e2"', 100),
]


@pytest.mark.parametrize("sent, stored", ROUNDED)
def test_depreciation_rounding_rule(client, user, item_row, sent, stored):
    _, token = user
    itemid = added(send(client, "/item/add", item_json(token, depreciatione=sent)))
    assert item_row(itemid)["depreciatione"] == stored
    assert f'"depreciatione":{stored},' in get_item(client, itemid)


REFUSED_DEPRECIATION = [
    "1" + "0" * 400,
    "1e400",
    "100.5",
    "100.0000001",
    "101",
    "-0.5",
    "-1",
    "1e308",
    '"NaN"',
    '"Infinity"',
    '"9.5%"',
    '""',
    '"九成新"',
    "true",
    "null",
    "[9.5]",
    '{"v":1}',
    '"0x10"',
    '"1_0"',
]


@pytest.mark.parametrize("sent", REFUSED_DEPRECIATION)
def test_depreciation_out_of_range_is_refused_and_nothing_written(app, client, user, sent):
    _, token = user
    before = table_snapshot(app)
    assert send(client, "/item/add", item_json(token, depreciatione=sent)).get_data() == INVALID
    assert table_snapshot(app) == before


def test_modify_depreciation_fraction(client, user, make_item, item_row):
    uuid, token = user
    itemid = make_item(uuid, depreciatione=90)
    assert (
        send(client, "/item/modify", f'{{"token":"{token}","itemid":{itemid},"depreciatione":9.5}}').get_data()
        == SUCCESS
    )
    assert item_row(itemid)["depreciatione"] == 10
    assert (
        send(client, "/item/modify", f'{{"token":"{token}","itemid":{itemid},"depreciatione":"2.5"}}').get_data()
        == SUCCESS
    )
    assert item_row(itemid)["depreciatione"] == 3


@pytest.mark.parametrize("sent", ["100.5", "-0.5", '"9.5%"', "true"])
def test_modify_depreciation_refused_changes_nothing(app, client, user, make_item, sent):
    uuid, token = user
    itemid = make_item(uuid, depreciatione=90)
    before = table_snapshot(app)
    raw = f'{{"token":"{token}","itemid":{itemid},"title":"新标题","depreciatione":{sent}}}'
    assert send(client, "/item/modify", raw).get_data() == FALSE
    assert table_snapshot(app) == before


def test_type_and_sold_are_still_integers(app, client, user):
    _, token = user
    before = table_snapshot(app)
    assert send(client, "/item/add", item_json(token, type="1.5")).get_data() == INVALID
    assert send(client, "/item/add", item_json(token, type='"1.5"')).get_data() == INVALID
    assert send(client, "/item/add", item_json(token, sold="1.5")).get_data() == INVALID
    assert table_snapshot(app) == before


# ------------------------------------------------------------ item 9: prices above 10^10

#: (sent JSON, echo as JavaScript prints the parsed number, read back from the column)
PRICES = [
    ("1e21", "1e+21"),
    ("1e+21", "1e+21"),
    ("10000000001", "10000000001"),
    ("1e10", "10000000000"),
    ("123456789012.34", "123456789012.34"),
    ("1e20", "100000000000000000000"),
    ("1.7976931348623157e308", "1.7976931348623157e+308"),
    ("1e308", "1e+308"),
    ("0.0000001", "1e-7"),
    ("5e-324", "5e-324"),
    ("0", "0"),
    ("987.0", "987"),
]


@pytest.mark.parametrize("sent, shown", PRICES)
def test_price_any_finite_number_from_zero_up(app, client, user, item_row, sent, shown):
    _, token = user
    reply = send(client, "/item/add", item_json(token, price=sent))
    assert f'"price":{shown},' in reply.get_data().decode()
    itemid = added(reply)
    assert item_row(itemid)["price"] == float(sent)
    assert get_item(client, itemid) == stored_item(itemid, shown, 90)
    # The hot path and the Flask route agree (the test client above went through the hot path).
    assert flask_only(app).get(f"/item/{itemid}").get_data().decode() == stored_item(itemid, shown, 90)


def test_price_as_text_from_a_form_is_echoed_as_text(client, user):
    _, token = user
    reply = client.post(
        "/item/add",
        data={
            "token": token,
            "title": "九成新小米充电宝",
            "type": "1",
            "price": "1e21",
            "depreciatione": "90",
            "note": "东门自提",
            "sold": "1",
        },
    )
    assert '"price":"1e21",' in reply.get_data().decode()
    assert get_item(client, added(reply)) == stored_item(1, "1e+21", 90)


def test_negative_zero_price_is_stored_as_zero(client, user, item_row):
    _, token = user
    itemid = added(send(client, "/item/add", item_json(token, price="-0.0")))
    assert str(item_row(itemid)["price"]) == "0.0"
    assert get_item(client, itemid) == stored_item(itemid, "0", 90)


@pytest.mark.parametrize(
    "sent",
    [
        "1e400",
        "1" + "0" * 400,
        "-1e21",
        "-1",
        "-5e-324",
        '"1' + "0" * 400 + '"',
        '"1e400"',
        '"Infinity"',
        '"NaN"',
        '"-1e21"',
        '"1e21x"',
        "true",
        "null",
        "[1e21]",
        '""',
    ],
)
def test_price_refusals(app, client, user, sent):
    _, token = user
    before = table_snapshot(app)
    assert send(client, "/item/add", item_json(token, price=sent)).get_data() == INVALID
    assert table_snapshot(app) == before


def test_modify_price_to_a_huge_number(client, user, make_item, item_row):
    uuid, token = user
    itemid = make_item(uuid, price=10.0)
    assert send(client, "/item/modify", f'{{"token":"{token}","itemid":{itemid},"price":1e21}}').get_data() == SUCCESS
    assert item_row(itemid)["price"] == 1e21
    assert '"price":1e+21,' in get_item(client, itemid)
    assert send(client, "/item/modify", f'{{"token":"{token}","itemid":{itemid},"price":1e400}}').get_data() == FALSE
    assert item_row(itemid)["price"] == 1e21


def test_huge_prices_in_the_lists_and_search(app, client, user):
    uuid, token = user
    added(send(client, "/item/add", item_json(token, price="1e21")))
    published = client.post("/user/published", data={"uuid": str(uuid)}).get_data().decode()
    assert '"price":1e+21,' in published
    app.extensions["foof.search"].flush(10)
    found = client.post("/item/search", data={"method": "good", "query": "充电宝"}).get_data().decode()
    assert '"price":1e+21,' in found
    assert json.loads(found)["hits"]["hits"][0]["_source"]["price"] == 1e21


class Rest:
    """A secondhand-face account, logged in with its own session cookie."""

    def __init__(self, app, name="xiaocaomei", password="abcdefg"):
        self.client = app.test_client()
        assert (
            self(
                "POST", "/users", {"username": name, "password": password, "resetQuestion": "3", "resetAnswer": "happy"}
            )["state"]
            == 200
        )
        assert self("POST", "/users/sessions", {"username": name, "password": password})["state"] == 200

    def __call__(self, method, path, payload=None, raw=None):
        if payload is not None:
            raw = json.dumps(payload, ensure_ascii=False)
        reply = self.client.open(
            path, method=method, data=None if raw is None else raw.encode(), content_type="application/json"
        )
        assert reply.status_code == 200 and reply.headers["Content-Type"] == "application/json; charset=utf-8"
        return json.loads(reply.get_data())  # valid JSON whatever the price


@pytest.mark.parametrize(
    "sent, value",
    [
        ("1e21", 1e21),
        ('"1e21"', 1e21),
        ("1.7976931348623157e308", 1.7976931348623157e308),
        ("10000000001", 10000000001.0),
    ],
)
def test_rest_products_take_and_render_huge_prices(app, client, sent, value):
    seller = Rest(app)
    raw = '{"name":"台灯","category":"00001","description":"九成新","location":"1","price":' + sent + ',"tags":"台灯"}'
    answer = seller("POST", "/products", raw=raw)
    assert answer["state"] == 200, answer
    listed = seller("GET", "/products")["data"]
    assert [p["price"] for p in listed] == [value]
    pid = listed[0]["id"]
    assert seller("GET", f"/products/detail/{pid}")["data"]["price"] == value
    assert seller("PATCH", f"/products/{pid}", raw='{"price":1e300}')["state"] == 200
    assert seller("GET", f"/products/detail/{pid}")["data"]["price"] == 1e300
    # The legacy face reads the same row back as JavaScript prints it.
    assert '"price":1e+300,' in get_item(client, int(pid))


@pytest.mark.parametrize("sent", ["1e400", "-1", '"Infinity"'])
def test_rest_products_still_refuse_what_is_not_a_price(app, sent):
    seller = Rest(app)
    before = table_snapshot(app)
    raw = '{"name":"台灯","category":"00001","description":"d","location":"1","price":' + sent + ',"tags":"t"}'
    assert seller("POST", "/products", raw=raw)["state"] == 4005
    assert table_snapshot(app) == before


# ------------------------------------------------------------ item 7: a JSON-number phone number


def codes(app):
    with app.app_context():
        rows = db.session.execute(select(VerifyCode.phonenumber, VerifyCode.state)).all()
        db.session.rollback()
        return [tuple(r) for r in rows]


def last_code(outbox, phone):
    return [m for m in outbox("sms") if m["phonenumber"] == phone][-1]["code"]


def test_requirecode_with_a_number_echoes_the_number(app, client, outbox):
    reply = send(client, "/user/requirecode", '{"phonenumber":13800000009}')
    assert (reply.status_code, reply.get_data()) == (200, b'{"status":"success","data":{"id":13800000009}}')
    assert [m["phonenumber"] for m in outbox("sms")] == ["13800000009"]
    assert codes(app) == [("13800000009", "live")]


def test_register_login_and_reset_with_a_number(app, client, outbox, clock):
    send(client, "/user/requirecode", f'{{"phonenumber":{PHONE}}}')
    code = last_code(outbox, str(PHONE))
    raw = f'{{"phonenumber":{PHONE},"verifycode":"{code}","password":"{PASSWORD}"}}'
    assert send(client, "/user/register", raw).get_data() == SUCCESS
    with app.app_context():
        stored = db.session.execute(select(User.phonenumber)).scalars().all()
        db.session.rollback()
    assert stored == ["13800000009"]  # its digits as text

    login = send(client, "/user/login", f'{{"phonenumber":{PHONE},"password":"{PASSWORD}"}}')
    answer = json.loads(login.get_data())
    assert answer["status"] == "success" and answer["info"]["phonenumber"] == "13800000009"
    assert client.post("/user/me", data={"token": answer["token"]}).json["uuid"] == answer["info"]["uuid"]
    # The same account by its text name.
    assert send(client, "/user/login", body(phonenumber=str(PHONE), password=PASSWORD)).json["status"] == "success"

    clock.advance(61)  # a fresh code, after the 60 s gap
    send(client, "/user/requirecode", f'{{"phonenumber":{PHONE}}}')
    code = last_code(outbox, str(PHONE))
    new = "e9dce2b4c4e10464916063bad753a8170d3e5a8c"
    assert (
        send(client, "/user/reset", f'{{"phonenumber":{PHONE},"verifycode":"{code}","password":"{new}"}}').get_data()
        == SUCCESS
    )
    assert send(client, "/user/login", f'{{"phonenumber":{PHONE},"password":"{new}"}}').json["status"] == "success"


def test_reset_with_a_number(app, client, outbox, make_user):
    make_user(str(PHONE), PASSWORD)
    send(client, "/user/requirecode", f'{{"phonenumber":{PHONE}}}')
    code = last_code(outbox, str(PHONE))
    new = "e9dce2b4c4e10464916063bad753a8170d3e5a8c"
    assert (
        send(client, "/user/reset", f'{{"phonenumber":{PHONE},"verifycode":"{code}","password":"{new}"}}').get_data()
        == SUCCESS
    )
    assert send(client, "/user/login", f'{{"phonenumber":{PHONE},"password":"{new}"}}').json["status"] == "success"


def test_register_with_a_number_taken_as_text(client, outbox, make_user):
    make_user(str(PHONE), PASSWORD)
    send(client, "/user/requirecode", f'{{"phonenumber":{PHONE}}}')
    code = last_code(outbox, str(PHONE))
    raw = f'{{"phonenumber":{PHONE},"verifycode":"{code}","password":"{PASSWORD}"}}'
    assert send(client, "/user/register", raw).json == {"status": "failure", "info": "phone number already token"}


#: Not phone numbers: a float (even an integral one), a negative, a bool, too many digits.
NOT_PHONES = [
    "1.38e10",
    "13800000009.0",
    "-13800000009",
    "true",
    "false",
    "null",
    "[13800000009]",
    "123456789012345678901",
    "1e308",
    "1" * 4000,
]


@pytest.mark.parametrize("phone", NOT_PHONES)
def test_requirecode_refuses_what_is_not_a_phone_number(app, client, outbox, phone):
    reply = send(client, "/user/requirecode", f'{{"phonenumber":{phone}}}')
    assert (reply.status_code, reply.get_data()) == (200, INVALID)
    assert outbox("sms") == [] and codes(app) == []


@pytest.mark.parametrize("phone", NOT_PHONES)
def test_login_refuses_what_is_not_a_phone_number(app, client, make_user, phone):
    make_user("13800000000", PASSWORD)  # 1.38e10 as digits: a float must not find it
    make_user("13800000009", PASSWORD)
    before = table_snapshot(app)
    reply = send(client, "/user/login", f'{{"phonenumber":{phone},"password":"{PASSWORD}"}}')
    assert (reply.status_code, reply.get_data()) == (200, BAD_REQUEST)
    assert table_snapshot(app) == before


@pytest.mark.parametrize("path", ["/user/register", "/user/reset"])
@pytest.mark.parametrize("phone", NOT_PHONES)
def test_register_and_reset_refuse_what_is_not_a_phone_number(app, client, outbox, make_user, path, phone):
    make_user("13800000000", PASSWORD)
    send(client, "/user/requirecode", '{"phonenumber":"13800000000"}')
    send(client, "/user/requirecode", '{"phonenumber":"13800000009"}')
    before, live = table_snapshot(app), codes(app)
    reply = send(client, path, f'{{"phonenumber":{phone},"verifycode":"1234","password":"{PASSWORD}"}}')
    assert (reply.status_code, reply.get_data()) == (200, INVALID)
    assert table_snapshot(app) == before and codes(app) == live
    with app.app_context():  # no try spent on anybody's code
        assert db.session.execute(select(VerifyCode.tries)).scalars().all() == [0, 0]
        db.session.rollback()


# ------------------------------------------------------------ item 8: a JSON-number code, leading zero


@pytest.fixture
def fixed_code(monkeypatch):
    """Make the next codes ``value`` (``secrets.randbelow`` as the verification module sees it)."""
    from foof.domain import verification

    def fix(value):
        class Fixed:
            @staticmethod
            def randbelow(n):
                return value

        monkeypatch.setattr(verification, "secrets", Fixed)

    return fix


def ask_code(client, outbox, phone=PHONE, ip="10.0.0.1"):
    assert send(client, "/user/requirecode", f'{{"phonenumber":"{phone}"}}', ip=ip).json["status"] == "success"
    return last_code(outbox, str(phone))


def register_raw(client, code, phone=PHONE):
    return send(client, "/user/register", f'{{"phonenumber":"{phone}","verifycode":{code},"password":"{PASSWORD}"}}')


def users(app):
    with app.app_context():
        found = db.session.execute(select(User.phonenumber)).scalars().all()
        db.session.rollback()
        return found


def test_number_code_with_leading_zero_matches(app, client, outbox, fixed_code):
    fixed_code(851)
    assert ask_code(client, outbox) == "0851"
    assert register_raw(client, "851").get_data() == SUCCESS
    assert users(app) == ["13800000009"]
    assert codes(app) == [("13800000009", "used")]


@pytest.mark.parametrize(
    "value, sent",
    [(7, "7"), (0, "0"), (0, "0.0"), (70, "70"), (851, "851.0"), (1234, "1234"), (9999, "9999"), (1234, "1.234e3")],
)
def test_number_codes_mean_the_four_digit_code_of_that_value(app, client, outbox, fixed_code, value, sent):
    fixed_code(value)
    ask_code(client, outbox)
    assert register_raw(client, sent).get_data() == SUCCESS
    assert users(app) == ["13800000009"]


@pytest.mark.parametrize(
    "sent", ['"851"', '" 0851"', "8510", "10851", "-851", "851.5", "true", "null", "[851]", '"0851.0"']
)
def test_other_spellings_do_not_match_and_spend_a_try(app, client, outbox, fixed_code, sent):
    fixed_code(851)
    ask_code(client, outbox)
    assert register_raw(client, sent).get_data() == BAD_CODE
    assert users(app) == []
    with app.app_context():
        assert db.session.execute(select(VerifyCode.tries)).scalars().all() == [1]
        db.session.rollback()
    assert register_raw(client, "851").get_data() == SUCCESS  # the code still works


def test_five_wrong_tries_burn_the_code_even_for_a_number(app, client, outbox, fixed_code):
    fixed_code(851)
    ask_code(client, outbox)
    for wrong in ('"851"', "8510", "-851", "851.5", "852"):
        assert register_raw(client, wrong).get_data() == BAD_CODE
    assert codes(app) == [("13800000009", "burned")]
    assert register_raw(client, "851").get_data() == INVALID  # no live code
    assert users(app) == []


def test_reset_with_a_number_code_with_leading_zero(app, client, outbox, make_user, fixed_code):
    make_user(str(PHONE), PASSWORD)
    fixed_code(42)
    assert ask_code(client, outbox) == "0042"
    new = "e9dce2b4c4e10464916063bad753a8170d3e5a8c"
    raw = f'{{"phonenumber":{PHONE},"verifycode":42,"password":"{new}"}}'
    assert send(client, "/user/reset", raw).get_data() == SUCCESS
    assert send(client, "/user/login", body(phonenumber=str(PHONE), password=new)).json["status"] == "success"


def test_rest_phone_proof_with_a_number_code(app, outbox, fixed_code):
    """POST /users/detail proves a new phone number with the same code rule."""
    fixed_code(851)
    seller = Rest(app)
    ask_code(seller.client, outbox)
    answer = seller("POST", "/users/detail", raw=f'{{"phoneNumber":"{PHONE}","verifyCode":851}}')
    assert answer["state"] == 200, answer
    assert str(PHONE) in users(app)
