"""Attacks on the staff console and the account commands (issue #15 review): digits that
``str.isdigit`` accepts but ``int`` refuses or reads differently, in queries and arguments."""

import pytest

from foof.extensions import db
from foof.models import AccountBlock, User
from tests import test_admin_console

#: Text ``str.isdigit`` calls digits: superscripts (``int`` refuses them) and other scripts'
#: digits (``int`` reads them as ASCII ones).
ODD_DIGITS = ["²", "¹", "①", "١", "１", "٣٤", "߁"]


config = test_admin_console.config
admin = test_admin_console.admin
console = test_admin_console.console


@pytest.mark.parametrize("value", ODD_DIGITS)
def test_console_queries_with_odd_digits(console, value):
    for page, key in (("/admin/users", "q"), ("/admin/audit", "page")):
        reply = console.get(page, query_string={key: value})
        assert reply.status_code == 200, (page, value, reply.status_code)
        assert "Traceback" not in reply.get_data(as_text=True)


@pytest.mark.parametrize("command", ["disable-user", "enable-user", "unlock-user"])
@pytest.mark.parametrize(
    "who",
    [
        "",
        " ",
        "uuid:",
        "uuid:abc",
        "uuid:²",
        "uuid:١",
        "²",
        "١",
        "長",
        "uuid:" + "9" * 30,
        "9" * 30,
        "\x00",
        "-1",
        "uuid:-1",
    ],
)
def test_account_commands_answer_hostile_names_in_one_line(app, runner, admin, who, command):
    result = runner.invoke(args=[command, "--", who])
    assert result.exit_code == 1, (command, who, result.output, result.exception)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), (command, who, result.output)
    with app.app_context():
        assert db.session.get(User, admin) is not None
        assert db.session.get(AccountBlock, admin) is None  # "uuid:١" is not uuid 1
