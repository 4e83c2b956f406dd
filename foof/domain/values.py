"""Reading wire values into domain values, the same rules for both faces.

Ids and integers may come as JSON numbers or digit strings (zero padding allowed: the
secondhand face pads ids); texts may be JSON numbers (stored as their digits) but never
containers; prices are finite numbers from 0 to 10^10.
"""
import math

from foof.domain.errors import Invalid, TooLong

INT_MIN, INT_MAX = -2**31, 2**31 - 1
MAX_PRICE = 1e10


def parse_id(value):
    """An id from the wire (int or digit string) as an int, or :class:`Invalid`."""
    return parse_int(value)


def parse_int(value):
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


def parse_price(value):
    if isinstance(value, bool) or value is None:
        raise Invalid()
    if isinstance(value, str):
        text = value.strip()
        if not text or len(text) > 32 or not all(c in "0123456789.+-eE" for c in text):
            raise Invalid()
        try:
            value = float(text)
        except ValueError:
            raise Invalid() from None
    if not isinstance(value, (int, float)):
        raise Invalid()
    value = float(value)
    if not math.isfinite(value) or value < 0 or value > MAX_PRICE:
        raise Invalid()
    return value


def parse_text(value, minimum=0):
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
