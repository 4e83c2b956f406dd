"""SMS and mail senders behind two tiny interfaces, chosen by configuration.

``outbox`` (the default for both) appends one JSON object per line to
``instance/outbox/sms.jsonl`` / ``mail.jsonl``: a demo or a test reads codes and links from
there. ``http`` posts SMS to a gateway URL; ``smtp`` hands mail to an SMTP server (plain,
STARTTLS or implicit SSL). A sender raises :class:`SendFailed` and logs why; the caller
decides what the user sees.
"""

import json
import logging
import os
import smtplib
import ssl
import threading
import urllib.error
import urllib.request
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from foof.domain.errors import SendFailed
from foof.filemodes import tighten

log = logging.getLogger(__name__)
_append_lock = threading.Lock()


def _stamp():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _append_jsonl(path, record):
    """Append one line; the outbox holds live codes and phone numbers, so its folder is
    created 0700 and its files 0600 (an existing looser file is tightened by build)."""
    line = json.dumps(record, ensure_ascii=False) + "\n"
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        with _append_lock:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with open(fd, "a", encoding="utf-8") as fh:
                fh.write(line)
    except OSError as exc:
        log.error("cannot write outbox %s: %s", path, exc)
        raise SendFailed() from exc


class OutboxSms:
    def __init__(self, path):
        self.path = path

    def send(self, phonenumber, code):
        _append_jsonl(self.path, {"phonenumber": phonenumber, "code": code, "time": _stamp()})


class HttpSms:
    """POSTs ``{"phonenumber": …, "code": …}`` as JSON; any 2xx reply counts as sent."""

    def __init__(self, url, timeout):
        if not url:
            raise ValueError("FOOF_SMS_BACKEND=http needs FOOF_SMS_HTTP_URL")
        self.url, self.timeout = url, timeout

    def send(self, phonenumber, code):
        body = json.dumps({"phonenumber": phonenumber, "code": code}).encode()
        req = urllib.request.Request(self.url, data=body, method="POST", headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                if not 200 <= resp.status < 300:
                    raise SendFailed()
        except (urllib.error.URLError, OSError, ValueError) as exc:
            log.error("SMS gateway %s failed: %s", self.url, exc)
            raise SendFailed() from exc


class OutboxMail:
    def __init__(self, path):
        self.path = path

    def send(self, to, subject, html, link):
        record = {"to": to, "subject": subject, "html": html, "link": link, "time": _stamp()}
        _append_jsonl(self.path, record)


def build_message(sender, to, subject, html, link):
    """The verification mail: text and HTML parts, with the ``Date`` and ``Message-ID``
    headers spam filters expect (a message id on the sender's own domain)."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Date"] = formatdate(usegmt=True)
    domain = sender.rpartition("@")[2].strip("<> ") or "localhost"
    msg["Message-ID"] = make_msgid(domain=domain)
    msg.set_content(f"{subject}\n\n{link}\n")
    msg.add_alternative(html, subtype="html")
    return msg


class SmtpMail:
    def __init__(self, host, port, user, password, tls, sender, timeout):
        if tls not in ("plain", "starttls", "ssl"):
            raise ValueError("FOOF_SMTP_TLS must be plain, starttls or ssl")
        self.host, self.port, self.user, self.password = host, port, user, password
        self.tls, self.sender, self.timeout = tls, sender, timeout
        #: Tests point this at a throw-away CA; production uses the system's.
        self.ssl_context = ssl.create_default_context()

    def send(self, to, subject, html, link):
        msg = build_message(self.sender, to, subject, html, link)
        try:
            if self.tls == "ssl":
                smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self.ssl_context)
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with smtp:
                if self.tls == "starttls":
                    smtp.starttls(context=self.ssl_context)
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(msg)
        except (smtplib.SMTPException, OSError) as exc:
            log.error("SMTP %s:%s failed: %s", self.host, self.port, exc)
            raise SendFailed() from exc


def _tighten_outbox(outbox):
    """An outbox written before files were created private: folder 0700, files 0600."""
    if not os.path.isdir(outbox):
        return
    tighten(outbox, 0o700)
    for name in os.listdir(outbox):
        path = os.path.join(outbox, name)
        if os.path.isfile(path):
            tighten(path, 0o600)


def build(config, instance_path):
    """``(sms, mail)`` senders for this configuration."""
    outbox = os.path.join(instance_path, "outbox")
    _tighten_outbox(outbox)
    if config["FOOF_SMS_BACKEND"] == "http":
        sms = HttpSms(config["FOOF_SMS_HTTP_URL"], config["FOOF_SMS_HTTP_TIMEOUT"])
    elif config["FOOF_SMS_BACKEND"] == "outbox":
        sms = OutboxSms(os.path.join(outbox, "sms.jsonl"))
    else:
        raise ValueError("FOOF_SMS_BACKEND must be outbox or http")
    if config["FOOF_MAIL_BACKEND"] == "smtp":
        mail = SmtpMail(
            config["FOOF_SMTP_HOST"],
            config["FOOF_SMTP_PORT"],
            config["FOOF_SMTP_USER"],
            config["FOOF_SMTP_PASSWORD"],
            config["FOOF_SMTP_TLS"],
            config["FOOF_MAIL_SENDER"],
            config["FOOF_SMTP_TIMEOUT"],
        )
    elif config["FOOF_MAIL_BACKEND"] == "outbox":
        mail = OutboxMail(os.path.join(outbox, "mail.jsonl"))
    else:
        raise ValueError("FOOF_MAIL_BACKEND must be outbox or smtp")
    return sms, mail
