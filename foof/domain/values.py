"""Reading wire values into domain values, the same rules for both faces.

Ids and integers may come as JSON numbers or digit strings (zero padding allowed: the
secondhand face pads ids); texts may be JSON numbers (stored as their digits) but never
containers. Prices are any finite number from 0 up (the DOUBLE column holds every finite
double); a depreciation is a number from 0 to 100, stored rounded half away from zero.
A phone number may be a JSON integer (its digits are the number).
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from foof.domain.errors import Invalid, TooLong

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
#: A number sent as text: digits, one sign, a point, an exponent; nothing JavaScript's
#: Number() reads differently from Python's float() (no "_", "0x", "Infinity", "NaN").
NUMBER_CHARS = frozenset("0123456789.+-eE")
#: Longest number text read (the longest double written out in full is about 330 characters).
MAX_NUMBER_TEXT = 400
MAX_DEPRECIATION = 100
#: A phone number sent as a JSON integer has at most this many digits (as the text rule).
MAX_PHONE_DIGITS = 20


def parse_id(value: Any) -> int:
    """An id from the wire (int or digit string) as an int, or :class:`Invalid`."""
    return parse_int(value)


def parse_int(value: Any) -> int:
    if isinstance(value, bool):
        raise Invalid()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text[:1] in "+-" else text
        # Zero padding is allowed: the secondhand face pads ids to 10 or 20 digits.
        if not digits.isdigit() or not digits.isascii() or len(digits.lstrip("0")) > 10:
            raise Invalid()
        value = int(text)
    if not isinstance(value, int) or not INT_MIN <= value <= INT_MAX:
        raise Invalid()
    return value


def parse_number(value: Any) -> float:
    """A finite number from the wire (JSON number or its text) as a float, or :class:`Invalid`.

    ``-0`` reads as ``0``. A JSON integer too large for a double (more than 308 digits) is
    not finite, so it is refused like ``1e400``."""
    if isinstance(value, bool) or value is None:
        raise Invalid()
    if isinstance(value, str):
        text = value.strip()
        if not text or len(text) > MAX_NUMBER_TEXT or not NUMBER_CHARS.issuperset(text):
            raise Invalid()
        try:
            value = float(text)
        except ValueError:
            raise Invalid() from None
    if not isinstance(value, (int, float)):
        raise Invalid()
    try:
        value = float(value)
    except OverflowError:  # an int beyond the largest double
        raise Invalid() from None
    if not math.isfinite(value):
        raise Invalid()
    return value + 0.0  # -0.0 + 0.0 is 0.0: the column never holds a negative zero


def parse_price(value: Any) -> float:
    """Any finite number ≥ 0 (no cap but the DOUBLE column's, which holds every finite
    double: ``1e21`` is stored and read back as ``1e21``)."""
    value = parse_number(value)
    if value < 0:
        raise Invalid()
    return value


def parse_depreciation(value: Any) -> int:
    """新旧程度: a number from 0 to 100 (the app allows ``"9.5"``) as the INT column's value.

    The number (as a double, exactly as a JSON parser reads it) is rounded half away from
    zero — for these non-negative values what JavaScript's ``Math.round`` does: 9.5 → 10,
    2.5 → 3, 9.49 → 9. The range is checked before rounding (100.2 is refused)."""
    value = parse_number(value)
    if not 0 <= value <= MAX_DEPRECIATION:
        raise Invalid()
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def phone_text(value: Any) -> str:
    """A phone number from the wire as text: a string as sent, a JSON integer ≥ 0 of at most
    20 digits as its digits (``13800000009`` → ``"13800000009"``). A float (even ``1.38e10``
    or ``13800000009.0``), a negative number, a bool or anything else is :class:`Invalid`."""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**MAX_PHONE_DIGITS:
        return str(value)
    raise Invalid()


def parse_text(value: Any, minimum: int = 0) -> str:
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        raise Invalid()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    value = str(value)
    if len(value) > 255:
        raise TooLong()
    if len(value) < minimum:
        raise Invalid()
    return value
