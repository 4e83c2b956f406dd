"""The one place the domain reads the time, so tests can inject a clock instead of sleeping.

Datetimes are naive UTC with whole seconds: MySQL DATETIME keeps no fraction, and the
legacy renderer prints ``.000Z`` exactly like the old server.
"""

from __future__ import annotations

from datetime import datetime, timezone

from flask import current_app


def now() -> datetime:
    clock = current_app.config.get("FOOF_CLOCK")
    moment = clock() if clock else datetime.now(timezone.utc).replace(tzinfo=None)
    return moment.replace(microsecond=0)
