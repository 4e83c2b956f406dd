"""The real senders end to end (docs/legacy-wire.md §5 `/user/requirecode`, `/user/mail/verify`).

Every server here is started by the test itself on 127.0.0.1 and stopped in fixture
teardown: an aiosmtpd SMTP server (plain, STARTTLS, implicit SSL, with and without AUTH)
and an ``http.server`` SMS gateway. TLS uses a throw-away CA and server certificate made
with ``cryptography`` at test time; nothing is downloaded or committed. Every wait is
bounded.
"""

import email
import email.policy
import email.utils
import html
import ipaddress
import json
import os
import re
import socket
import ssl
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from foof import create_app, senders

WAIT = 5.0  # seconds: the bound on every wait in this module
PUBLIC_URL = "http://localhost:4000"
LINK_RE = re.compile(r'href="(http://localhost:4000/user/mail/verify/[^"]+)"')
SERVER_ERROR = {"status": "server error"}
INVALID = {"status": "failure", "info": "invaild request"}
TOO_FREQUENT = {"status": "failure", "info": "request too frequent"}
SMTP_USER, SMTP_PASSWORD = "shop-mailer", "s3cret-Pass"
STAMP_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def closed_port():
    """A port on 127.0.0.1 that refuses connections: bound by us, never listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


# --------------------------------------------------------------------------- certificates


@pytest.fixture(scope="session")
def tls(tmp_path_factory):
    """A throw-away CA and a server certificate for localhost / 127.0.0.1 signed by it."""
    now = datetime.now(timezone.utc)
    valid = dict(not_before=now - timedelta(minutes=5), not_after=now + timedelta(days=1))

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "FOOF throw-away test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid["not_before"])
        .not_valid_after(valid["not_after"])
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid["not_before"])
        .not_valid_after(valid["not_after"])
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "server.pem", folder / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM).decode("ascii")

    def server_context():
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(cert_file), str(key_file))
        return ctx

    def client_context():
        """What a deployment trusting this CA would use: full verification, hostname included."""
        return ssl.create_default_context(cadata=ca_pem)

    return SimpleNamespace(server_context=server_context, client_context=client_context)


# --------------------------------------------------------------------------- SMTP server


class Mailbox:
    """aiosmtpd handler keeping every accepted message (with how it arrived)."""

    def __init__(self, reject_rcpt=False):
        self.reject_rcpt = reject_rcpt
        self.messages = []
        self._cond = threading.Condition()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject_rcpt:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        received = SimpleNamespace(
            mail_from=envelope.mail_from,
            rcpt_tos=list(envelope.rcpt_tos),
            raw=envelope.original_content,
            message=email.message_from_bytes(envelope.original_content, policy=email.policy.default),
            encrypted=server.transport.get_extra_info("ssl_object") is not None,
            login=session.login_data,
        )
        with self._cond:
            self.messages.append(received)
            self._cond.notify_all()
        return "250 2.0.0 OK: queued"

    def wait_for(self, count=1, timeout=WAIT):
        with self._cond:
            self._cond.wait_for(lambda: len(self.messages) >= count, timeout=timeout)
            return list(self.messages)


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == SMTP_USER.encode()
        and auth_data.password == SMTP_PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


def _stop_bounded(controller):
    stopper = threading.Thread(target=controller.stop, daemon=True)
    stopper.start()
    stopper.join(WAIT)
    assert not stopper.is_alive(), "SMTP test server did not stop in time"


@pytest.fixture
def smtp_servers(tls):
    """``start(mode, auth=False, reject_rcpt=False)`` → a running server (port, mailbox)."""
    running = []

    def start(mode="plain", auth=False, reject_rcpt=False):
        mailbox = Mailbox(reject_rcpt=reject_rcpt)
        kwargs = dict(hostname="127.0.0.1", server_hostname="localhost", ready_timeout=WAIT)
        if mode == "ssl":
            kwargs["ssl_context"] = tls.server_context()
        elif mode == "starttls":
            # MAIL is refused before STARTTLS: a delivered message proves TLS was used.
            kwargs.update(tls_context=tls.server_context(), require_starttls=True)
        if auth:
            kwargs["authenticator"] = _authenticator
            if mode == "starttls":
                kwargs.update(auth_required=True, auth_require_tls=True)
            else:
                # aiosmtpd only counts STARTTLS as "TLS" for AUTH; on implicit SSL the login
                # is checked through the message's recorded login instead.
                kwargs.update(auth_required=False, auth_require_tls=False)
        for attempt in range(3):  # the free port may be taken in between: try another
            port = free_port()
            controller = Controller(mailbox, port=port, **kwargs)
            try:
                controller.start()
            except OSError:
                if attempt == 2:
                    raise
                continue
            break
        running.append(controller)
        return SimpleNamespace(port=port, mailbox=mailbox, mode=mode)

    yield start
    for controller in running:
        _stop_bounded(controller)


def _smtp_settings(port, mode):
    return {
        "FOOF_MAIL_BACKEND": "smtp",
        "FOOF_SMTP_HOST": "127.0.0.1",
        "FOOF_SMTP_PORT": port,
        "FOOF_SMTP_TLS": mode,
        "FOOF_SMTP_TIMEOUT": WAIT,
        "FOOF_MAIL_SENDER": "noreply@shop.example.test",
    }


@pytest.fixture
def smtp(request, config, smtp_servers):
    """A running SMTP server the app is configured to use.

    Param: ``"<mode>"`` or ``"<mode>+auth"`` (right credentials) or ``"<mode>+badauth"``
    (wrong password); mode is plain, starttls or ssl. List it before ``app``.
    """
    mode, _, extra = getattr(request, "param", "plain").partition("+")
    server = smtp_servers(mode, auth=bool(extra))
    config.update(_smtp_settings(server.port, mode))
    if extra:
        config["FOOF_SMTP_USER"] = SMTP_USER
        config["FOOF_SMTP_PASSWORD"] = SMTP_PASSWORD if extra == "auth" else "wrong-password"
    return server


def mail_sender(app):
    sender = app.extensions["foof.senders"][1]
    assert isinstance(sender, senders.SmtpMail)
    return sender


def trust_test_ca(app, tls):
    mail_sender(app).ssl_context = tls.client_context()


def _verify_request(client, token, **body):
    return client.post("/user/mail/verify", data={"token": token, **body}).json


def _me(client, token):
    return client.post("/user/me", data={"token": token}).json


def _check_delivered_and_follow(client, server, token, idcard="213170001"):
    """The one message the server got is the verification mail; its link verifies the user."""
    (got,) = server.mailbox.wait_for(1)
    assert got.rcpt_tos == [f"{idcard}@seu.edu.cn"]
    assert got.mail_from == "noreply@shop.example.test"
    msg = got.message
    assert msg["To"] == f"{idcard}@seu.edu.cn"
    assert msg["From"] == "noreply@shop.example.test"
    assert str(msg["Subject"]) == "东大杂货铺"
    # Spam filters drop mail without these two (issue #14 item 9).
    assert email.utils.parsedate_to_datetime(msg["Date"]).tzinfo is not None
    assert re.fullmatch(r"<[^<>@\s]+@shop\.example\.test>", msg["Message-ID"]), msg["Message-ID"]
    assert got.encrypted is (server.mode != "plain")
    body = msg.get_body(preferencelist=("html",))
    assert body is not None and body.get_content_type() == "text/html"
    page = body.get_content()
    found = LINK_RE.search(page)
    assert found, page
    link = html.unescape(found.group(1))
    token_part = link[len(f"{PUBLIC_URL}/user/mail/verify/") :]
    assert token_part and "/" not in token_part
    assert link in msg.get_body(preferencelist=("plain",)).get_content()

    assert _me(client, token)["verified"] == 0
    assert client.get(link[len(PUBLIC_URL) :]).json == {"status": "success"}
    me = _me(client, token)
    assert me["verified"] == 1
    assert me["idcard"] == idcard
    return got


# --------------------------------------------------------------------------- SMTP tests


@pytest.mark.parametrize("smtp", ["plain", "starttls", "ssl"], indirect=True)
def test_mail_verify_delivers_through_real_smtp(smtp, app, client, make_user, token_for, tls):
    if smtp.mode != "plain":
        trust_test_ca(app, tls)
    uuid = make_user("13800000002", "pw", idcard="213170001")
    token = token_for(uuid)
    assert _verify_request(client, token) == {"status": "success"}
    got = _check_delivered_and_follow(client, smtp, token)
    assert got.login is None
    # The subject travels RFC 2047-encoded: the raw headers are plain ASCII.
    head = got.raw.split(b"\r\n\r\n", 1)[0]
    head.decode("ascii")
    # A second request within 60 s is refused and sends nothing.
    assert _verify_request(client, token) == TOO_FREQUENT
    assert len(smtp.mailbox.wait_for(2, timeout=0.3)) == 1


@pytest.mark.parametrize("smtp", ["starttls"], indirect=True)
def test_mail_verify_idcard_from_body(smtp, app, client, user, tls):
    """A user without an idcard names it in the request; the link stores it."""
    trust_test_ca(app, tls)
    uuid, token = user
    assert _me(client, token)["idcard"] == ""
    assert _verify_request(client, token, idcard="213170001") == {"status": "success"}
    _check_delivered_and_follow(client, smtp, token)


@pytest.mark.parametrize("smtp", ["starttls+auth", "ssl+auth"], indirect=True)
def test_mail_verify_with_smtp_auth(smtp, app, client, make_user, token_for, tls):
    trust_test_ca(app, tls)
    uuid = make_user("13800000002", "pw", idcard="213170001")
    token = token_for(uuid)
    assert _verify_request(client, token) == {"status": "success"}
    got = _check_delivered_and_follow(client, smtp, token)
    assert got.login == SMTP_USER.encode()


@pytest.mark.parametrize("smtp", ["starttls+badauth", "ssl+badauth"], indirect=True)
def test_mail_verify_smtp_auth_refused(smtp, app, client, make_user, token_for, tls):
    trust_test_ca(app, tls)
    uuid = make_user("13800000002", "pw", idcard="213170001")
    token = token_for(uuid)
    assert _verify_request(client, token) == SERVER_ERROR
    assert _verify_request(client, token) == SERVER_ERROR  # not "too frequent"
    assert smtp.mailbox.wait_for(1, timeout=0.3) == []
    assert _me(client, token)["verified"] == 0


@pytest.mark.parametrize("smtp", ["starttls", "ssl"], indirect=True)
def test_mail_verify_refuses_untrusted_certificate(smtp, app, client, make_user, token_for):
    """With the default (system) trust store the throw-away certificate is rejected."""
    uuid = make_user("13800000002", "pw", idcard="213170001")
    token = token_for(uuid)
    assert _verify_request(client, token) == SERVER_ERROR
    assert smtp.mailbox.wait_for(1, timeout=0.3) == []


def test_mail_verify_recipient_refused(config, smtp_servers, request):
    server = smtp_servers("plain", reject_rcpt=True)
    config.update(_smtp_settings(server.port, "plain"))
    client = request.getfixturevalue("client")
    uuid = request.getfixturevalue("make_user")("13800000002", "pw", idcard="213170001")
    token = request.getfixturevalue("token_for")(uuid)
    assert _verify_request(client, token) == SERVER_ERROR
    assert server.mailbox.messages == []


def test_mail_verify_smtp_down(config, closed_port, smtp_servers, request):
    config.update(_smtp_settings(closed_port, "plain"))
    app = request.getfixturevalue("app")
    client = app.test_client()
    uuid = request.getfixturevalue("make_user")("13800000002", "pw", idcard="213170001")
    token = request.getfixturevalue("token_for")(uuid)
    started = time.monotonic()
    assert _verify_request(client, token) == SERVER_ERROR
    assert time.monotonic() - started < WAIT
    # Nothing was recorded: the retry (same fake instant, well within 60 s) is not limited.
    assert _verify_request(client, token) == SERVER_ERROR
    server = smtp_servers("plain")
    mail_sender(app).port = server.port  # the mail server comes back
    assert _verify_request(client, token) == {"status": "success"}
    _check_delivered_and_follow(client, server, token)
    assert _verify_request(client, token) == TOO_FREQUENT


# --------------------------------------------------------------------------- SMS gateway


class _GatewayHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        gateway = self.server.gateway
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        with gateway.lock:
            gateway.requests.append(
                SimpleNamespace(
                    path=self.path,
                    content_type=self.headers.get("Content-Type"),
                    body=body,
                )
            )
            status, hold = gateway.status, gateway.hold
        if hold is not None:
            hold.wait(WAIT)
        reply = json.dumps({"ok": 200 <= status < 300}).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)
        except OSError:
            pass  # the client gave up (timeout test)

    def log_message(self, format, *args):
        pass


@pytest.fixture
def gateway(monkeypatch):
    """A local SMS gateway: ``.url``, ``.requests``, ``.status`` (reply code), ``.hold``."""
    # urllib honours *_proxy variables; the gateway is local, never go through a proxy.
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setenv("NO_PROXY", "*")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _GatewayHandler)
    server.daemon_threads = True
    state = SimpleNamespace(
        requests=[],
        status=200,
        hold=None,
        lock=threading.Lock(),
        url=f"http://127.0.0.1:{server.server_address[1]}/sms/send",
    )
    server.gateway = state
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    if state.hold is not None:
        state.hold.set()
    server.shutdown()
    server.server_close()
    thread.join(WAIT)
    assert not thread.is_alive(), "SMS gateway did not stop in time"


@pytest.fixture
def sms_http(config, gateway):
    """The app's SMS backend is the local gateway. List it before ``app``."""
    config.update(
        {
            "FOOF_SMS_BACKEND": "http",
            "FOOF_SMS_HTTP_URL": gateway.url,
            "FOOF_SMS_HTTP_TIMEOUT": WAIT,
        }
    )
    return gateway


def _requirecode(client, phonenumber):
    return client.post("/user/requirecode", data={"phonenumber": phonenumber})


def _register(client, phonenumber, code, password="pw"):
    return client.post(
        "/user/register", data={"phonenumber": phonenumber, "verifycode": code, "password": password}
    ).json


def _delivered(gateway, index=-1):
    request = gateway.requests[index]
    assert request.path == "/sms/send"
    assert request.content_type == "application/json"
    body = json.loads(request.body)
    assert set(body) == {"phonenumber", "code"}
    assert isinstance(body["code"], str) and re.fullmatch(r"[0-9]{4}", body["code"])
    return body


def test_requirecode_through_http_gateway(sms_http, app, client):
    reply = _requirecode(client, "13800000009")
    assert reply.data == b'{"status":"success","data":{"id":"13800000009"}}'
    assert len(sms_http.requests) == 1
    body = _delivered(sms_http)
    assert body["phonenumber"] == "13800000009"
    assert _register(client, "13800000009", body["code"]) == {"status": "success"}
    login = client.post("/user/login", data={"phonenumber": "13800000009", "password": "pw"}).json
    assert login["status"] == "success"
    # A delivered code consumed the 60 s limit.
    assert _requirecode(client, "13800000010").json["status"] == "success"
    assert _requirecode(client, "13800000010").json == TOO_FREQUENT
    assert len(sms_http.requests) == 2


def test_requirecode_json_body_through_http_gateway(sms_http, app, client):
    reply = client.post("/user/requirecode", json={"phonenumber": "+8613800000009"})
    assert reply.json == {"status": "success", "data": {"id": "+8613800000009"}}
    assert _delivered(sms_http)["phonenumber"] == "+8613800000009"


@pytest.mark.parametrize("failure", ["status500", "unreachable", "timeout"])
def test_requirecode_gateway_failure(failure, config, gateway, closed_port, request):
    config.update({"FOOF_SMS_BACKEND": "http", "FOOF_SMS_HTTP_TIMEOUT": 0.5})
    if failure == "unreachable":
        config["FOOF_SMS_HTTP_URL"] = f"http://127.0.0.1:{closed_port}/sms/send"
    else:
        config["FOOF_SMS_HTTP_URL"] = gateway.url
    if failure == "status500":
        gateway.status = 500
    if failure == "timeout":
        gateway.hold = threading.Event()
    app = request.getfixturevalue("app")
    client = app.test_client()

    started = time.monotonic()
    assert _requirecode(client, "13800000009").json == SERVER_ERROR
    assert time.monotonic() - started < WAIT

    # The failed code is not live, whether or not the gateway saw it.
    seen = [json.loads(r.body)["code"] for r in gateway.requests]
    for code in seen + ["0000", "1234"]:
        assert _register(client, "13800000009", code) == INVALID
    if failure == "status500":
        # Failures count against no limit: neither 60 s nor 10 per number per day.
        for _ in range(11):
            assert _requirecode(client, "13800000009").json == SERVER_ERROR

    # The gateway works again: an immediate retry is not limited and its code registers.
    if gateway.hold is not None:
        gateway.hold.set()
        gateway.hold = None
    gateway.status = 200
    app.extensions["foof.senders"][0].url = gateway.url
    app.extensions["foof.senders"][0].timeout = WAIT
    before = len(gateway.requests)
    reply = _requirecode(client, "13800000009")
    assert reply.data == b'{"status":"success","data":{"id":"13800000009"}}'
    assert len(gateway.requests) == before + 1
    code = _delivered(gateway)["code"]
    assert _register(client, "13800000009", code) == {"status": "success"}


# --------------------------------------------------------------------------- outbox senders


def _lines(app, kind):
    path = os.path.join(app.instance_path, "outbox", f"{kind}.jsonl")
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    assert text.endswith("\n")
    return text, [json.loads(line) for line in text.splitlines()]


def test_outbox_sms_lines(app, client):
    assert isinstance(app.extensions["foof.senders"][0], senders.OutboxSms)
    assert _requirecode(client, "13800000009").json["status"] == "success"
    assert _requirecode(client, "+8613800000010").json["status"] == "success"
    text, records = _lines(app, "sms")
    assert len(records) == 2 and len(text.splitlines()) == 2
    for record, phone in zip(records, ["13800000009", "+8613800000010"]):
        assert list(record) == ["phonenumber", "code", "time"]
        assert record["phonenumber"] == phone
        assert isinstance(record["code"], str) and re.fullmatch(r"[0-9]{4}", record["code"])
        assert STAMP_RE.match(record["time"]), record["time"]
    assert _register(client, "13800000009", records[0]["code"]) == {"status": "success"}


def test_outbox_mail_lines(config, request):
    config.update({"FOOF_PUBLIC_URL": "https://shop.example.test/", "FOOF_MAIL_DOMAIN": "example.edu"})
    app = request.getfixturevalue("app")
    client = app.test_client()
    assert isinstance(app.extensions["foof.senders"][1], senders.OutboxMail)
    uuid = request.getfixturevalue("make_user")("13800000002", "pw", idcard="213170001")
    token = request.getfixturevalue("token_for")(uuid)
    assert _verify_request(client, token) == {"status": "success"}
    text, records = _lines(app, "mail")
    assert len(records) == 1
    record = records[0]
    assert list(record) == ["to", "subject", "html", "link", "time"]
    assert record["to"] == "213170001@example.edu"
    assert record["subject"] == "东大杂货铺"
    assert "东大杂货铺" in text  # written as UTF-8, not \\u escapes
    assert record["link"].startswith("https://shop.example.test/user/mail/verify/")
    assert f'href="{html.escape(record["link"])}"' in record["html"]
    assert STAMP_RE.match(record["time"]), record["time"]
    assert client.get(record["link"][len("https://shop.example.test") :]).json == {"status": "success"}
    assert _me(client, token)["verified"] == 1


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    "settings, named",
    [
        ({"FOOF_SMS_BACKEND": "aliyun"}, "FOOF_SMS_BACKEND"),
        ({"FOOF_SMS_BACKEND": ""}, "FOOF_SMS_BACKEND"),
        ({"FOOF_MAIL_BACKEND": "sendmail"}, "FOOF_MAIL_BACKEND"),
        ({"FOOF_MAIL_BACKEND": "smtp", "FOOF_SMTP_TLS": "tls"}, "FOOF_SMTP_TLS"),
        ({"FOOF_SMS_BACKEND": "http", "FOOF_SMS_HTTP_URL": ""}, "FOOF_SMS_HTTP_URL"),
    ],
)
def test_invalid_backend_rejected_at_create_app(config, settings, named):
    config.update(settings)
    with pytest.raises(ValueError, match=named):
        create_app(config)


def test_invalid_backend_from_environment(config, monkeypatch):
    monkeypatch.setenv("FOOF_MAIL_BACKEND", "pigeon")
    with pytest.raises(ValueError, match="FOOF_MAIL_BACKEND must be outbox or smtp"):
        create_app(config)


def test_backends_chosen_by_configuration(config, smtp, sms_http, app):
    sms, mail = app.extensions["foof.senders"]
    assert isinstance(sms, senders.HttpSms) and sms.url == sms_http.url
    assert isinstance(mail, senders.SmtpMail) and mail.port == smtp.port and mail.tls == "plain"


# --------------------------------------------------------------------------- brand and subject


@pytest.mark.parametrize("smtp", ["plain"], indirect=True)
def test_mail_brand_and_subject_are_configuration(smtp, config, request):
    """``FOOF_BRAND`` names the marketplace in the mail's text, ``FOOF_MAIL_SUBJECT`` is the
    subject (both default to today's 东大杂货铺)."""
    config["FOOF_BRAND"] = "九龙湖二手集市"
    config["FOOF_MAIL_SUBJECT"] = "校园邮箱认证 · 九龙湖二手集市"
    request.getfixturevalue("app")
    client = request.getfixturevalue("client")
    uuid = request.getfixturevalue("make_user")("13800000002", "pw", idcard="213170001")
    token = request.getfixturevalue("token_for")(uuid)
    assert _verify_request(client, token) == {"status": "success"}
    (got,) = smtp.mailbox.wait_for(1)
    assert str(got.message["Subject"]) == "校园邮箱认证 · 九龙湖二手集市"
    page = got.message.get_body(preferencelist=("html",)).get_content()
    assert "完成九龙湖二手集市的校园邮箱认证" in page
    assert "东大杂货铺" not in page


def test_message_ids_are_unique_and_dates_current():
    first = senders.build_message("FOOF <noreply@market.example.edu.cn>", "a@b.cn", "s", "<p>x</p>", "http://l")
    second = senders.build_message("noreply@market.example.edu.cn", "a@b.cn", "s", "<p>x</p>", "http://l")
    assert first["Message-ID"] != second["Message-ID"]
    assert first["Message-ID"].endswith("@market.example.edu.cn>")
    sent = email.utils.parsedate_to_datetime(first["Date"])
    assert abs((sent - datetime.now(timezone.utc)).total_seconds()) < 60
