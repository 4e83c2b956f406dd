"""``flask --app foof grant-role <phone|login> admin|moderator|student``: the only way to make
(or unmake) staff. Written to the audit log with actor 0 (the command line)."""

import click
from flask.cli import with_appcontext

from foof.cli import database_errors
from foof.domain import cards
from foof.domain.errors import Invalid, UserNotFound


@click.command("grant-role")
@with_appcontext
@database_errors
@click.argument("who")
@click.argument("role", type=click.Choice(sorted(cards.ROLE_NAMES)))
def grant_role(who, role):
    """Give WHO (a phone number, or a REST login name) the role ROLE."""
    try:
        uuid, code = cards.grant_role(who, role)
    except UserNotFound:
        raise click.ClickException(f"no user with the phone number or login name {who!r}") from None
    except Invalid:
        raise click.ClickException("invalid user or role") from None
    click.echo(f"user {uuid} is now {role} (role {code})")
