"""Listeners told about committed item changes (the search index subscribes here).

The domain calls :func:`item_changed` through ``after_commit``, so a listener only ever
sees committed state and a rebuild command can always recreate what listeners keep.
Listeners belong to the app (``app.extensions``), so two apps never share them.
"""
from flask import current_app

KEY = "foof.item_listeners"


def subscribe(app, listener):
    app.extensions.setdefault(KEY, []).append(listener)


def item_changed(itemid):
    for listener in current_app.extensions.get(KEY, ()):
        listener(itemid)
