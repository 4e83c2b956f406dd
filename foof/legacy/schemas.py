"""Legacy object shapes (docs/legacy-wire.md §4), in table column order."""
from foof.legacy.render import row

PUBLIC_USER = ("uuid", "username", "avatarurl", "verified", "score", "info")


def public_user(user, **extra):
    return row(user, PUBLIC_USER, **extra)


def own_user(user, **extra):
    """Every column but ``password``; ``studentid`` is text (``"0"``) even on an old
    database whose column is INT."""
    out = row(user, None)
    del out["password"]
    out["studentid"] = str(out["studentid"])
    out.update(extra)
    return out


def item(entry, **extra):
    return row(entry, None, **extra)


def favourite(entry):
    return row(entry, None)


def message(entry, **extra):
    out = row(entry, None, **extra)
    out["fetched"] = bool(out["fetched"])
    # An old database may hold ``type`` as VARCHAR (the seed's schema); it renders a number.
    if isinstance(out["type"], str) and out["type"].lstrip("-").isdigit():
        out["type"] = int(out["type"])
    return out
