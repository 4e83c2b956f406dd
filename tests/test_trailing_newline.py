"""Anchored patterns end at the end of the text, not before a final newline (Python's ``$``
matches before one): "13900000001\\n" was a second spelling of a number, dodging its SMS
limits, and an idcard ending in a newline went into a mail address (found by attacking the
change)."""

import pytest

from foof.domain import mailverify, orders, payments, profiles, verification


@pytest.mark.parametrize(
    "pattern, good",
    [
        (verification.PHONE_RE, "13900000001"),
        (mailverify.IDCARD_RE, "213170001"),
        (profiles.LOGIN_RE, "xiaocaomei"),
        (profiles.EMAIL_RE, "a@b.cn"),
        (payments.AMOUNT_RE, "12.50"),
        (orders.NUMBER_RE, "SF123456"),
    ],
)
def test_no_pattern_accepts_a_final_newline(pattern, good):
    assert pattern.match(good)
    assert not pattern.match(good + "\n")


def test_requirecode_refuses_a_number_with_a_final_newline(client, outbox):
    assert client.post("/user/requirecode", json={"phonenumber": "13900000001"}).get_json()["status"] == "success"
    answer = client.post("/user/requirecode", json={"phonenumber": "13900000001\n"}).get_json()
    assert answer == {"status": "failure", "info": "invaild request"}
    assert len(outbox("sms")) == 1
