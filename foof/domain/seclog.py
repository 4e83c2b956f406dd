"""The security log: one line per event an admin may have to answer for, on the
``foof.security`` logger (failed logins, lockouts, password resets and changes, codes sent,
accounts disabled and enabled). Legacy failures answer HTTP 200, so the access log cannot
show a brute force; this log can. Phone numbers are masked (``139****0003``)."""

from __future__ import annotations

import logging

log = logging.getLogger("foof.security")


def mask(phone: object) -> str:
    """A phone number with its middle hidden: enough to grep one number, not to read it."""
    text = str(phone or "")
    if len(text) <= 4:
        return "*" * len(text)
    keep = 3 if len(text) >= 8 else 1
    return text[:keep] + "*" * (len(text) - keep - 4) + text[-4:]


def _clean(value: object) -> str:
    text = str(value)
    # One event, one line: nothing a student typed can start a new log line or look like a field.
    return "".join(ch if ch.isprintable() and ch != " " else "_" for ch in text)[:80] or "-"


def event(what: str, **fields: object) -> None:
    """Log ``what`` (``login.failed``, ``login.locked``, ``password.reset`` …) with ``k=v`` fields."""
    parts = " ".join(f"{key}={_clean(value)}" for key, value in fields.items())
    level = logging.WARNING if what.endswith((".failed", ".locked")) else logging.INFO
    log.log(level, "%s %s", what, parts)


def count(channel: str, ok: bool) -> None:
    """Count one SMS or mail send (``channel`` ``sms``/``mail``) in the app's metrics, if any."""
    from flask import current_app

    metrics = current_app.extensions.get("foof.metrics")
    if metrics is not None:
        metrics.count_send(channel, ok)
