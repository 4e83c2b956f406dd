"""Listeners told about committed changes (the search index subscribes here).

The domain calls these through ``after_commit``, so a listener only ever hears of committed
state, and a rebuild command can always recreate what listeners keep. Listeners belong to
the app (``app.extensions``), so two apps never share them.
"""

from __future__ import annotations

from typing import Callable

from flask import Flask, current_app

KEY = "foof.change_listeners"


def subscribe(app: Flask, listener: Callable[[str, int], object]) -> None:
    """``listener(kind, key)`` with kind ``"goods"`` (key = itemid) or ``"users"`` (uuid)."""
    app.extensions.setdefault(KEY, []).append(listener)


def changed(kind: str, key: int) -> None:
    for listener in current_app.extensions.get(KEY, ()):
        listener(kind, key)


def item_changed(itemid: int) -> None:
    changed("goods", itemid)


def user_changed(uuid: int) -> None:
    changed("users", uuid)
