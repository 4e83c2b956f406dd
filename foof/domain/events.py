"""Listeners told about committed changes (the search index subscribes here).

The domain calls these through ``after_commit``, so a listener only ever hears of committed
state, and a rebuild command can always recreate what listeners keep. Listeners belong to
the app (``app.extensions``), so two apps never share them.
"""
from flask import current_app

KEY = "foof.change_listeners"


def subscribe(app, listener):
    """``listener(kind, key)`` with kind ``"goods"`` (key = itemid) or ``"users"`` (uuid)."""
    app.extensions.setdefault(KEY, []).append(listener)


def changed(kind, key):
    for listener in current_app.extensions.get(KEY, ()):
        listener(kind, key)


def item_changed(itemid):
    changed("goods", itemid)


def user_changed(uuid):
    changed("users", uuid)
