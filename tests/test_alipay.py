"""``/alipay``: the signed app-pay orderString and Alipay's asynchronous notices.

Keys are thrown away after the run: one RSA pair plays our application key, another plays
Alipay's (Alipay signs notices with its private key, we only ever hold its public key). The
notices are signed here exactly as Alipay documents it, and both directions are cross-checked
against the independent ``python-alipay-sdk`` (test-only dependency).
"""

import base64
import json
from urllib.parse import parse_qsl, urlencode

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from foof.domain import payments
from foof.extensions import db
from foof.models import Order

APP_ID = "2021000122612470"
NOTIFY_URL = "https://market.example.edu.cn/alipay/response"
TRADE_NO = "2023020922001400000000000001"


def _pem_private(key):
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _pem_public(key):
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture(scope="module")
def keys():
    """Two throw-away 2048-bit pairs: ours (signs orderStrings) and "Alipay's" (signs notices)."""
    ours = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    theirs = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {
        "app_private": ours,
        "app_private_pem": _pem_private(ours),
        "app_public_pem": _pem_public(ours),
        "alipay_private": theirs,
        "alipay_private_pem": _pem_private(theirs),
        "alipay_public_pem": _pem_public(theirs),
    }


@pytest.fixture
def config(config, keys):
    config.update(
        {
            "FOOF_ALIPAY_APP_ID": APP_ID,
            "FOOF_ALIPAY_PRIVATE_KEY": keys["app_private_pem"],
            "FOOF_ALIPAY_PUBLIC_KEY": keys["alipay_public_pem"],
            "FOOF_ALIPAY_NOTIFY_URL": NOTIFY_URL,
        }
    )
    return config


# -- builders ------------------------------------------------------------------------------------
def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def trade(client, make_user, make_item, token_for):
    """A seller, a buyer and an open order for a 12.5 product: ``trade.order`` (int id)."""
    from types import SimpleNamespace

    seller, buyer, stranger = make_user("13800000001"), make_user("13800000002"), make_user("13800000003")
    pid = make_item(seller, title="小米充电宝", price=12.5)
    reply = client.post(f"/orders/{pid}?trans=0", headers=bearer(token_for(buyer)))
    assert reply.get_json()["state"] == 200
    orders = client.get("/orders/buy", headers=bearer(token_for(buyer))).get_json()["data"]
    return SimpleNamespace(
        seller=seller,
        buyer=buyer,
        stranger=stranger,
        pid=pid,
        order=int(orders[0]["id"]),
        padded=orders[0]["id"],
        buyer_headers=bearer(token_for(buyer)),
        seller_headers=bearer(token_for(seller)),
        stranger_headers=bearer(token_for(stranger)),
    )


def order_row(app, order_id):
    with app.app_context():
        order = db.session.get(Order, order_id)
        return {"pay_id": order.pay_id, "state": order.state, "updated_at": order.updated_at}


def alipay_sign(fields, private_key):
    """Sign a notice the way Alipay does: without sign/sign_type, sorted, ``k=v&…``, RSA2."""
    content = "&".join(f"{k}={v}" for k, v in sorted(fields.items()) if k not in ("sign", "sign_type"))
    signature = private_key.sign(content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def notice_for(trade, keys, **changes):
    fields = {
        "gmt_create": "2023-02-09 00:35:01",
        "charset": "utf-8",
        "seller_email": "shop@example.com",
        "subject": "小米充电宝",
        "buyer_id": "2088102177846880",
        "invoice_amount": "12.50",
        "notify_id": "2023020900222003502000000000000001",
        "fund_bill_list": '[{"amount":"12.50","fundChannel":"ALIPAYACCOUNT"}]',
        "notify_type": "trade_status_sync",
        "trade_status": "TRADE_SUCCESS",
        "receipt_amount": "12.50",
        "app_id": APP_ID,
        "buyer_pay_amount": "12.50",
        "notify_time": "2023-02-09 00:35:02",
        "point_amount": "0.00",
        "total_amount": "12.50",
        "seller_id": "2088102177649450",
        "trade_no": TRADE_NO,
        "auth_app_id": APP_ID,
        "out_trade_no": trade.padded,
        "version": "1.0",
    }
    fields.update(changes)
    fields = {k: v for k, v in fields.items() if v is not None}
    fields["sign_type"] = "RSA2"
    fields["sign"] = alipay_sign(fields, keys["alipay_private"])
    return fields


def post_notice(client, fields):
    return client.post("/alipay/response", data=urlencode(fields), content_type="application/x-www-form-urlencoded")


def order_string_params(reply):
    body = reply.get_json()
    assert body["state"] == 200 and body["message"] is None, body
    assert list(body["data"]) == ["orderString"]
    return dict(parse_qsl(body["data"]["orderString"], keep_blank_values=True, strict_parsing=True))


# -- /alipay/info --------------------------------------------------------------------------------
def test_info_needs_login(client, trade):
    reply = client.post("/alipay/info", json={"out_trade_no": trade.padded})
    assert reply.status_code == 401
    assert reply.get_json() == {"state": 4003, "message": "用户未登录", "data": None}


@pytest.mark.parametrize("who", ["seller_headers", "stranger_headers"])
def test_only_the_buyer_gets_an_order_string(client, trade, who):
    reply = client.post("/alipay/info", json={"out_trade_no": trade.padded}, headers=getattr(trade, who))
    assert reply.status_code == 403
    assert reply.get_json()["state"] == 4004


@pytest.mark.parametrize("missing", ["FOOF_ALIPAY_APP_ID", "FOOF_ALIPAY_PRIVATE_KEY", "FOOF_ALIPAY_PUBLIC_KEY"])
def test_unconfigured_answers_5002(app, client, trade, missing):
    app.config[missing] = ""
    reply = client.post("/alipay/info", json={"out_trade_no": trade.padded}, headers=trade.buyer_headers)
    assert reply.status_code == 200
    assert reply.get_json() == {"state": 5002, "message": "支付未配置", "data": None}


@pytest.mark.parametrize(
    "setting,value",
    [
        ("FOOF_ALIPAY_PRIVATE_KEY", "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----"),
        ("FOOF_ALIPAY_PRIVATE_KEY", "instance/missing.pem"),
        ("FOOF_ALIPAY_PUBLIC_KEY", "bm90IGEga2V5"),  # base64, but not a key
        ("FOOF_ALIPAY_PUBLIC_KEY", "alipay_public"),  # neither base64 nor a file
    ],
)
def test_unreadable_key_answers_5002(app, client, trade, caplog, setting, value):
    app.config[setting] = value
    reply = client.post("/alipay/info", json={"out_trade_no": trade.padded}, headers=trade.buyer_headers)
    assert reply.get_json() == {"state": 5002, "message": "支付未配置", "data": None}
    assert f"{setting} is unusable" in caplog.text


@pytest.mark.parametrize("send", ["json", "form"])
@pytest.mark.parametrize("padded", [True, False])
def test_amount_and_subject_come_from_the_database(client, trade, send, padded):
    order_id = trade.padded if padded else str(trade.order)
    body = {"out_trade_no": order_id, "total_amount": "0.01", "subject": "便宜货"}
    kwargs = {"json": body} if send == "json" else {"data": body}
    params = order_string_params(client.post("/alipay/info", headers=trade.buyer_headers, **kwargs))
    biz = json.loads(params["biz_content"])
    assert biz == {
        "out_trade_no": trade.padded,
        "total_amount": "12.50",
        "subject": "小米充电宝",
        "product_code": "QUICK_MSECURITY_PAY",
    }


def test_order_string_is_signed_with_our_key(client, trade, keys):
    reply = client.post("/alipay/info", json={"out_trade_no": trade.padded}, headers=trade.buyer_headers)
    raw = reply.get_json()["data"]["orderString"]
    params = order_string_params(reply)
    assert raw.rsplit("&", 1)[1].startswith("sign=")
    # The fake clock stands at 14:29:05 UTC; Alipay reads timestamps as Beijing time.
    assert {k: v for k, v in params.items() if k not in ("sign", "biz_content")} == {
        "app_id": APP_ID,
        "charset": "utf-8",
        "format": "JSON",
        "method": "alipay.trade.app.pay",
        "notify_url": NOTIFY_URL,
        "sign_type": "RSA2",
        "timestamp": "2019-09-04 22:29:05",
        "version": "1.0",
    }
    assert "timestamp=2019-09-04+22%3A29%3A05" in raw and "%E5%B0%8F%E7%B1%B3" in raw  # quote_plus, UTF-8
    content = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "sign")
    public = serialization.load_pem_public_key(keys["app_public_pem"].encode())
    public.verify(base64.b64decode(params["sign"]), content.encode(), padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(InvalidSignature):
        public.verify(
            base64.b64decode(params["sign"]),
            content.replace("12.50", "0.01").encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )


def test_notify_url_defaults_to_the_public_url(app, client, trade):
    app.config.update(FOOF_ALIPAY_NOTIFY_URL="", FOOF_PUBLIC_URL="https://shop.example.edu.cn/")
    reply = client.post("/alipay/info", json={"out_trade_no": trade.padded}, headers=trade.buyer_headers)
    assert order_string_params(reply)["notify_url"] == "https://shop.example.edu.cn/alipay/response"


def test_subject_drops_characters_alipay_forbids(client, make_user, make_item, token_for):
    seller, buyer = make_user("13800000001"), make_user("13800000002")
    pid = make_item(seller, title="耳机 a/b=c&d", price=3)
    client.post(f"/orders/{pid}?trans=1", headers=bearer(token_for(buyer)))
    reply = client.post("/alipay/info", json={"out_trade_no": 1}, headers=bearer(token_for(buyer)))
    biz = json.loads(order_string_params(reply)["biz_content"])
    assert biz["subject"] == "耳机 a b c d" and biz["total_amount"] == "3.00"


def test_free_product_cannot_be_paid(client, make_user, make_item, token_for):
    seller, buyer = make_user("13800000001"), make_user("13800000002")
    pid = make_item(seller, price=0)
    client.post(f"/orders/{pid}?trans=0", headers=bearer(token_for(buyer)))
    reply = client.post("/alipay/info", json={"out_trade_no": "1"}, headers=bearer(token_for(buyer)))
    assert reply.get_json()["state"] == 5002


@pytest.mark.parametrize(
    "body,state",
    [
        ({}, 4005),
        ({"out_trade_no": ""}, 4005),
        ({"out_trade_no": [1]}, 4005),
        ({"out_trade_no": "99"}, 4007),
        ({"out_trade_no": "abc"}, 4007),
    ],
)
def test_info_bad_order_ids(client, trade, body, state):
    reply = client.post("/alipay/info", json=body, headers=trade.buyer_headers)
    assert reply.get_json()["state"] == state


def test_no_order_string_for_a_paid_or_closed_order(client, trade, keys):
    assert post_notice(client, notice_for(trade, keys)).data == b"success"
    reply = client.post("/alipay/info", json={"out_trade_no": trade.padded}, headers=trade.buyer_headers)
    assert reply.get_json()["state"] == 4007
    client.post(f"/orders/state/{trade.padded}?state=2", headers=trade.buyer_headers)
    reply = client.post("/alipay/info", json={"out_trade_no": trade.padded}, headers=trade.buyer_headers)
    assert reply.get_json()["state"] == 4007


def test_no_order_string_for_a_cancelled_order(client, trade):
    client.post(f"/orders/state/{trade.padded}?state=1", headers=trade.buyer_headers)
    reply = client.post("/alipay/info", json={"out_trade_no": trade.padded}, headers=trade.buyer_headers)
    assert reply.get_json()["state"] == 4007


# -- /alipay/response ----------------------------------------------------------------------------
def test_notice_replayed_ten_times_records_once(app, client, clock, trade, keys):
    before = order_row(app, trade.order)
    fields = notice_for(trade, keys)
    for attempt in range(10):
        clock.advance(60)
        reply = post_notice(client, fields)
        assert reply.status_code == 200
        assert reply.data == b"success" and reply.content_type.startswith("text/plain")
        if attempt == 0:
            recorded = order_row(app, trade.order)
    after = order_row(app, trade.order)
    assert after == recorded  # the replays wrote nothing (not even updated_at)
    assert after["pay_id"] == TRADE_NO and after["state"] == before["state"] == "0"
    assert after["updated_at"] > before["updated_at"]
    data = client.get("/orders/buy", headers=trade.buyer_headers).get_json()["data"][0]
    assert data["payId"] == TRADE_NO and data["state"] == "0"


def test_finished_after_success_is_acknowledged(app, client, trade, keys):
    assert post_notice(client, notice_for(trade, keys)).data == b"success"
    assert post_notice(client, notice_for(trade, keys, trade_status="TRADE_FINISHED")).data == b"success"
    assert order_row(app, trade.order)["pay_id"] == TRADE_NO


def test_second_trade_for_a_paid_order_is_refused(app, client, trade, keys):
    assert post_notice(client, notice_for(trade, keys)).data == b"success"
    assert post_notice(client, notice_for(trade, keys, trade_no="2023020922009999")).data == b"failure"
    assert order_row(app, trade.order)["pay_id"] == TRADE_NO


@pytest.mark.parametrize("status", ["WAIT_BUYER_PAY", "TRADE_CLOSED"])
def test_unpaid_statuses_are_acknowledged_without_recording(app, client, trade, keys, status):
    before = order_row(app, trade.order)
    assert post_notice(client, notice_for(trade, keys, trade_status=status)).data == b"success"
    assert order_row(app, trade.order) == before


def test_notice_with_empty_values_verifies(app, client, trade, keys):
    """Alipay keeps empty values in the signed content."""
    assert post_notice(client, notice_for(trade, keys, body="")).data == b"success"
    assert order_row(app, trade.order)["pay_id"] == TRADE_NO


def _tampered(fields):
    fields["total_amount"] = "0.01"
    return fields


def _resigned_with_app_key(fields, keys):
    fields["sign"] = alipay_sign(fields, keys["app_private"])  # our key, not Alipay's
    return fields


def _signed_without(name):
    """A notice signed by Alipay's key that simply lacks ``name``."""
    return lambda t, k: notice_for(t, k, **{name: None})


BAD_NOTICES = {
    "wrong amount": lambda t, k: notice_for(t, k, total_amount="1.00"),
    "wrong app id": lambda t, k: notice_for(t, k, app_id="2021000000000000"),
    "unknown order": lambda t, k: notice_for(t, k, out_trade_no="00000000000000000099"),
    "garbage order": lambda t, k: notice_for(t, k, out_trade_no="X-1"),
    "unknown status": lambda t, k: notice_for(t, k, trade_status="TRADE_PENDING"),
    "malformed amount": lambda t, k: notice_for(t, k, total_amount="12.5e0"),
    "malformed trade no": lambda t, k: notice_for(t, k, trade_no="2023 0209"),
    "tampered after signing": lambda t, k: _tampered(notice_for(t, k)),
    "bad signature": lambda t, k: {**notice_for(t, k), "sign": base64.b64encode(b"\0" * 256).decode()},
    "signature not base64": lambda t, k: {**notice_for(t, k), "sign": "%%%"},
    "signed with the wrong key": lambda t, k: _resigned_with_app_key(notice_for(t, k), k),
    "sign type RSA": lambda t, k: {**notice_for(t, k), "sign_type": "RSA"},
    **{
        f"missing {name}": _signed_without(name)
        for name in ("app_id", "out_trade_no", "total_amount", "trade_status", "trade_no")
    },
    "missing sign": lambda t, k: {key: v for key, v in notice_for(t, k).items() if key != "sign"},
}


@pytest.mark.parametrize("case", sorted(BAD_NOTICES))
def test_bad_notice_changes_nothing(app, client, trade, keys, case):
    before = order_row(app, trade.order)
    reply = post_notice(client, BAD_NOTICES[case](trade, keys))
    assert reply.status_code == 200 and reply.data == b"failure"
    assert order_row(app, trade.order) == before


def test_repeated_field_is_refused(app, client, trade, keys):
    body = urlencode(notice_for(trade, keys)) + "&trade_status=TRADE_SUCCESS"
    reply = client.post("/alipay/response", data=body, content_type="application/x-www-form-urlencoded")
    assert reply.data == b"failure" and order_row(app, trade.order)["pay_id"] is None


def test_notice_for_a_cancelled_order_is_refused(app, client, trade, keys):
    client.post(f"/orders/state/{trade.padded}?state=1", headers=trade.buyer_headers)
    assert post_notice(client, notice_for(trade, keys)).data == b"failure"
    assert order_row(app, trade.order)["pay_id"] is None


def test_notice_when_unconfigured_is_refused(app, client, trade, keys):
    fields = notice_for(trade, keys)
    app.config["FOOF_ALIPAY_PUBLIC_KEY"] = ""
    assert post_notice(client, fields).data == b"failure"


def test_notice_needs_a_form_body(client, trade, keys):
    assert client.post("/alipay/response", json=notice_for(trade, keys)).data == b"failure"


@pytest.fixture
def alipay_environment(monkeypatch, keys):
    """Payment settings in the environment, for ``live_server`` (request this fixture first)."""
    for key, value in {
        "FOOF_ALIPAY_APP_ID": APP_ID,
        "FOOF_ALIPAY_PRIVATE_KEY": keys["app_private_pem"],
        "FOOF_ALIPAY_PUBLIC_KEY": keys["alipay_public_pem"],
    }.items():
        monkeypatch.setenv(key, value)


def test_simultaneous_duplicate_notices_all_succeed(app, trade, keys, alipay_environment, live_server):
    """Alipay may deliver one notice twice at once: one request records it, every reply is success."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.conftest import http_post

    fields = notice_for(trade, keys)
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda _: http_post(live_server.url + "/alipay/response", fields), range(16)))
    assert replies == [(200, b"success")] * 16
    assert order_row(app, trade.order)["pay_id"] == TRADE_NO


# -- key formats ---------------------------------------------------------------------------------
def _bare_base64(pem):
    return "".join(line for line in pem.splitlines() if "-----" not in line)


@pytest.mark.parametrize("form", ["file", "bare base64", "escaped newlines", "pkcs1"])
def test_key_formats(app, client, trade, keys, tmp_path, form):
    private, public = keys["app_private_pem"], keys["alipay_public_pem"]
    if form == "file":
        (tmp_path / "app.pem").write_text(private)
        (tmp_path / "alipay.pem").write_text(public)
        private, public = str(tmp_path / "app.pem"), str(tmp_path / "alipay.pem")
    elif form == "bare base64":  # how Alipay's key tool prints them
        private, public = _bare_base64(private), _bare_base64(public)
    elif form == "escaped newlines":  # a PEM squeezed into one environment line
        private, public = private.replace("\n", "\\n"), public.replace("\n", "\\n")
    else:
        private = (
            keys["app_private"]
            .private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
            )
            .decode()
        )
    app.config.update(FOOF_ALIPAY_PRIVATE_KEY=private, FOOF_ALIPAY_PUBLIC_KEY=public)
    reply = client.post("/alipay/info", json={"out_trade_no": trade.padded}, headers=trade.buyer_headers)
    assert "sign" in order_string_params(reply)
    assert post_notice(client, notice_for(trade, keys)).data == b"success"


def test_signing_content_rules():
    params = {"b": "2", "a": "x y&z", "sign": "ignored", "empty": "", "none": None, "c": "中文"}
    assert payments.signing_content(params) == "a=x y&z&b=2&c=中文"
    assert payments.signing_content({"b": "", "a": "1"}, skip_empty=False) == "a=1&b="


# -- cross-checks with python-alipay-sdk (test-only) ---------------------------------------------
def _sdk(private_pem, public_pem):
    import alipay  # python-alipay-sdk, the dev extra: a missing install fails here, loudly

    return alipay.AliPay(
        appid=APP_ID,
        app_notify_url=NOTIFY_URL,
        app_private_key_string=private_pem,
        alipay_public_key_string=public_pem,
        sign_type="RSA2",
    )


def test_order_string_matches_the_sdk(client, trade, keys):
    reply = client.post("/alipay/info", json={"out_trade_no": trade.padded}, headers=trade.buyer_headers)
    ours = reply.get_json()["data"]["orderString"]
    params = order_string_params(reply)
    sdk = _sdk(keys["app_private_pem"], keys["alipay_public_pem"])
    # The SDK serialises a dict biz_content with ASCII escapes; hand it our exact JSON text,
    # and the two fields its builder leaves out or takes from the wall clock.
    theirs = sdk.client_api(
        "alipay.trade.app.pay",
        params["biz_content"],
        notify_url=NOTIFY_URL,
        format="JSON",
        timestamp=params["timestamp"],
    )
    assert theirs == ours
    # The same request built from the parameters alone (dict biz_content, ASCII-only subject).
    with client.application.app_context():
        cfg = payments.settings()
        biz = {
            "out_trade_no": "00000000000000000042",
            "total_amount": "9.00",
            "subject": "Lotto 233",
            "product_code": "QUICK_MSECURITY_PAY",
        }
        mine = payments.signed_string(
            {
                "app_id": APP_ID,
                "method": "alipay.trade.app.pay",
                "format": "JSON",
                "charset": "utf-8",
                "sign_type": "RSA2",
                "timestamp": "2023-02-09 00:34:40",
                "version": "1.0",
                "notify_url": NOTIFY_URL,
                "biz_content": json.dumps(biz, separators=(",", ":")),
            },
            cfg.private_key,
        )
    theirs = sdk.client_api(
        "alipay.trade.app.pay", dict(biz), notify_url=NOTIFY_URL, format="JSON", timestamp="2023-02-09 00:34:40"
    )
    assert mine == theirs


def test_sdk_verifies_our_test_notices(trade, keys):
    sdk = _sdk(keys["app_private_pem"], keys["alipay_public_pem"])
    fields = notice_for(trade, keys)
    signature = fields.pop("sign")
    assert sdk.verify(dict(fields), signature) is True
    fields["total_amount"] = "0.01"
    assert sdk.verify(dict(fields), signature) is False


def test_we_accept_notices_signed_by_the_sdk(app, client, trade, keys):
    """The SDK's signer holding "Alipay's" private key plays Alipay."""
    alipay_side = _sdk(keys["alipay_private_pem"], keys["app_public_pem"])
    fields = {k: v for k, v in notice_for(trade, keys).items() if k not in ("sign", "sign_type")}
    content = "&".join(f"{k}={v}" for k, v in sorted(fields.items()))
    fields.update(sign_type="RSA2", sign=alipay_side._sign(content))
    assert post_notice(client, fields).data == b"success"
    assert order_row(app, trade.order)["pay_id"] == TRADE_NO
