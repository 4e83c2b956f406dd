"""Attacks on the staff console and the account commands (issue #15 review): digits that
``str.isdigit`` accepts but ``int`` refuses or reads differently, in queries and arguments."""

import pytest
from sqlalchemy import func, select, text

from foof.extensions import db
from foof.models import AccountBlock, User
from foof.schema import create_schema
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


@pytest.mark.parametrize(
    "args",
    [
        ["renumber-user", "--", "99999999999999999999999", "13900000002"],
        ["renumber-user", "--", "2147483648", "13900000002"],
        ["renumber-user", "--", "0", "13900000002"],
        ["merge-users", "--yes", "--", "99999999999999999999", "1"],
        ["merge-users", "--yes", "--", "1", "99999999999999999999"],
        ["disable-user", "--reason", "\udcff", "--", "13900000001"],
        ["disable-user", "--", "\udcff"],
        ["enable-user", "--", "139\udcff"],
        ["unlock-user", "--", "uuid:\udcff"],
        ["reset-password", "--", "\udcff"],
        ["create-user", "--", "13900000005", "\udcff"],
        ["grant-role", "--", "\udcff", "admin"],
        ["grant-role", "--", "x" * 300, "admin"],
        ["grant-role", "--", "", "moderator"],
    ],
    ids=lambda args: " ".join(args)[:40].encode("ascii", "backslashreplace").decode(),
)
def test_huge_ids_and_undecodable_arguments_are_one_line(app, runner, admin, args):
    """Numbers past any id, and bytes that are not UTF-8 on the command line (Python keeps them
    as lone surrogates, as in ``disable-user --reason $'\\xff'``): one line, nothing changed."""
    result = runner.invoke(args=args, input="pw\npw\n")
    assert result.exit_code == 1, (args, result.output, result.exception)
    lines = result.output.strip().splitlines()
    assert lines and lines[-1].startswith("Error: ") and "Traceback" not in result.output, (args, result.output)
    with app.app_context():
        assert db.session.get(AccountBlock, admin) is None
        assert db.session.get(User, admin).phonenumber == "13900000001"
        assert db.session.execute(select(func.count()).select_from(User)).scalar() == 1


def test_grant_role_on_a_database_without_tables_is_one_line(app, runner, admin):
    with app.app_context():
        db.session.execute(text("DROP TABLE user_profiles"))
        db.session.commit()
    try:
        result = runner.invoke(args=["grant-role", "13900000001", "student"])
    finally:
        with app.app_context():
            create_schema()  # MariaDB's schema is made once per run: the next tests need it
    assert result.exit_code == 1 and "Traceback" not in result.output, (result.output, result.exception)
    assert result.output.strip().splitlines()[-1].startswith("Error: database ")


def test_renumber_and_merge_log_masked_numbers(app, runner, admin, make_user, caplog):
    """The security log masks phone numbers (``139****0001``): the account commands too."""
    import logging

    other = make_user("13800000091", "x")
    caplog.set_level(logging.INFO, logger="foof.security")
    assert runner.invoke(args=["renumber-user", str(other), "13800000092"]).exit_code == 0
    assert runner.invoke(args=["merge-users", "--yes", str(other), str(admin)]).exit_code == 0
    lines = [r.getMessage() for r in caplog.records if r.name == "foof.security"]
    assert any(line.startswith("account.renumbered ") and "138****0091" in line for line in lines), lines
    assert any(line.startswith("account.merged ") and f"into={admin}" in line for line in lines), lines
    for number in ("13800000091", "13800000092"):
        assert not any(number in line for line in lines), lines
