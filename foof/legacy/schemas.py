"""Legacy object shapes (CONTRACT 1.4 "Objects"), in table column order."""
from foof.legacy.render import row

PUBLIC_USER = ("uuid", "username", "avatarurl", "verified", "score", "info")


def public_user(user, **extra):
    return row(user, PUBLIC_USER, **extra)


def own_user(user, **extra):
    """Every column but ``password``; ``studentid`` is text (``"0"``)."""
    out = row(user, None)
    del out["password"]
    out.update(extra)
    return out


def item(entry, **extra):
    return row(entry, None, **extra)


def favourite(entry):
    return row(entry, None)


def message(entry, **extra):
    out = row(entry, None, **extra)
    out["fetched"] = bool(out["fetched"])
    return out
