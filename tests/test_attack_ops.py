"""Operations routes under attack (issue #14 review): /metrics behind a spoofed proxy header,
with and without FOOF_TRUST_PROXY, and odd Authorization values; /readyz and /healthz never
show the database password or a secret."""

import pytest

from foof import create_app

REMOTE = {"REMOTE_ADDR": "203.0.113.9"}
LOOPBACK = {"REMOTE_ADDR": "127.0.0.1"}
SPOOFS = [
    {"X-Forwarded-For": "127.0.0.1"},
    {"X-Forwarded-For": "127.0.0.1, 127.0.0.1"},
    {"x-forwarded-for": "::1"},
    {"Forwarded": "for=127.0.0.1"},
    {"X-Real-IP": "127.0.0.1"},
    {"X-Forwarded-For": ""},
]


@pytest.mark.parametrize("trust", [0, 1, 2])
def test_metrics_refuse_every_spoofed_loopback(config, trust):
    config["FOOF_TRUST_PROXY"] = trust
    client = create_app(config).test_client()
    for environ in (REMOTE, LOOPBACK):
        for headers in SPOOFS:
            reply = client.get("/metrics", environ_base=environ, headers=headers)
            assert reply.status_code == 404, (trust, environ, headers)
            assert b"foof_http" not in reply.data
    assert client.get("/metrics", environ_base=REMOTE).status_code == 404
    assert client.get("/metrics", environ_base=LOOPBACK).status_code == 200


@pytest.mark.parametrize(
    "given",
    [
        "Bearer ",
        "Bearer",
        "bearer t0ken-42",
        "Bearer t0ken-4",
        "Bearer t0ken-42x",
        "Bearer \u00e9",
        "Bearer " + "x" * 5000,
    ],
)
def test_metrics_token_only_exact(config, given):
    config["FOOF_METRICS_TOKEN"] = "t0ken-42"
    client = create_app(config).test_client()
    assert client.get("/metrics", environ_base=REMOTE, headers={"Authorization": given}).status_code == 404
    ok = client.get("/metrics", environ_base=REMOTE, headers={"Authorization": "Bearer t0ken-42"})
    assert ok.status_code == 200


def test_readyz_never_shows_the_password_or_secrets(config, tmp_path):
    config["FOOF_DATABASE_URL"] = "mysql+pymysql://foof:Sup3rS3cret@127.0.0.1:1/foof"
    config["FOOF_METRICS_TOKEN"] = "t0ken-42"
    app = create_app(config)
    client = app.test_client()
    reply = client.get("/readyz")
    body = reply.get_data(as_text=True)
    assert reply.status_code == 503
    for secret in ("Sup3rS3cret", "t0ken-42", "test-secret-key", config["FOOF_JWT_SECRET"], "Traceback"):
        assert secret not in body
    assert "***" in body or "unreachable" in body
