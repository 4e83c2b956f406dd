"""Campus mail verification: a link mailed to ``<idcard>@<FOOF_MAIL_DOMAIN>`` sets ``verified``."""

from __future__ import annotations

import html
import logging
import re
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import update

from foof.domain import accounts, ratelimit, seclog, tokens
from foof.domain.errors import BadToken, Invalid, TooFrequent, UserNotFound
from foof.domain.tx import atomic
from foof.extensions import db
from foof.models import User

log = logging.getLogger(__name__)

SUBJECT = "东大杂货铺"
GAP_SECONDS = 60
#: A usable mailbox name: a campus card number or login, nothing that could inject headers.
IDCARD_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")


class MailSender(Protocol):
    """What :func:`request` needs of a mail sender (``foof.senders``)."""

    def send(self, to: str, subject: str, html: str, link: str) -> object: ...


def request(uuid: int, idcard_override: Any, mail: MailSender) -> None:
    """Mail a verification link; ``idcard_override`` (if given) is used instead of the stored one.

    The mailed idcard travels in the token and is stored when the link is opened, so the
    verified mailbox and the profile always agree.
    """
    user = accounts.get(uuid)
    idcard = idcard_override if idcard_override not in (None, "") else user.idcard
    if not isinstance(idcard, str) or not IDCARD_RE.match(idcard):
        raise Invalid()
    # One step (check and record under the subject's lock): of requests sent at once only
    # one gets the event; the others see it. A failed send gives it back.
    event = atomic(ratelimit.take, "mail:user", str(uuid), 1, GAP_SECONDS)
    if event is None:
        raise TooFrequent()
    token = tokens.mail_token(uuid, idcard)
    link = f"{current_app.config['FOOF_PUBLIC_URL'].rstrip('/')}/user/mail/verify/{token}"
    to = f"{idcard}@{current_app.config['FOOF_MAIL_DOMAIN']}"
    brand = str(current_app.config.get("FOOF_BRAND") or SUBJECT)
    subject = str(current_app.config.get("FOOF_MAIL_SUBJECT") or brand)
    body = (
        f"<p>你好，</p><p>请打开下面的链接，在页面上点击“确认认证”，完成{html.escape(brand)}的校园邮箱认证（30 分钟内有效）：</p>"
        f'<p><a href="{html.escape(link)}">{html.escape(link)}</a></p>'
        "<p>如果这不是你本人的操作，请忽略这封邮件。</p>"
    )
    try:
        mail.send(to, subject, body, link)
    except Exception:  # SendFailed (or a sender bug): the person may retry at once
        atomic(ratelimit.give_back, event)
        seclog.count("mail", False)
        seclog.event("mail.send.failed", uuid=uuid, to=_masked_mailbox(to))
        raise
    log.info("verification mail sent for user %s", uuid)
    seclog.count("mail", True)
    seclog.event("mail.sent", uuid=uuid, to=_masked_mailbox(to))


def _masked_mailbox(address: str) -> str:
    """``2130001@seu.edu.cn`` → ``213***01@seu.edu.cn``: greppable, not readable."""
    local, _, domain = address.partition("@")
    return f"{seclog.mask(local)}@{domain}"


def preview(token: object) -> tuple[User, str]:
    """``(user, mailbox)`` a usable token would confirm, without writing anything (the page a
    browser sees before pressing the button); :class:`BadToken` for any unusable token."""
    uuid, idcard = tokens.read_mail_token(token)
    try:
        user = accounts.get(uuid)
    except UserNotFound:
        raise BadToken() from None
    if not (isinstance(idcard, str) and IDCARD_RE.match(idcard)):
        idcard = user.idcard
    mailbox = f"{idcard}@{current_app.config['FOOF_MAIL_DOMAIN']}" if idcard else ""
    return user, mailbox


def confirm(token: object) -> None:
    """Mark the token's user verified; :class:`BadToken` for any unusable token."""
    uuid, idcard = tokens.read_mail_token(token)
    try:
        accounts.get(uuid)
    except UserNotFound:
        raise BadToken() from None
    values: dict[str, object] = {"verified": 1}
    if isinstance(idcard, str) and IDCARD_RE.match(idcard):
        values["idcard"] = idcard
    atomic(lambda: db.session.execute(update(User).where(User.uuid == uuid).values(**values)))
    log.info("user %s verified by mail", uuid)
