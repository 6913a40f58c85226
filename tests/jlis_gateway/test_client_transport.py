"""The client's transport over real HTTP: retries only where safe, typed errors, mutual TLS."""

from __future__ import annotations

import ipaddress
import json
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.exceptions import ImproperlyConfigured

from jlis_gateway.client import JlisClient, JlisProtocolError, JlisRefused, JlisUnavailable

from .scripted_server import Answer, ScriptedServer

EMPTY_PAGE = {"events": [], "next_cursor": "", "has_more": False}


@pytest.fixture(scope="module")
def server():
    running = ScriptedServer()
    yield running
    running.close()


def client_for(base_url: str, **options) -> JlisClient:
    return JlisClient(base_url=base_url, timeout=options.pop("timeout", 2.0), retries=2, backoff=0.01, **options)


def submit(client: JlisClient, key: str = "k-1"):
    return client.submit_consent(
        idempotency_key=key, reference="C-1", statement=b"s", signature=b"sig", certificate=b"der", items=["address"]
    )


def test_a_get_is_retried_after_a_5xx_and_its_answer_used(server):
    server.answer(Answer(503, {"code": "unavailable", "message": "busy"}), Answer(200, EMPTY_PAGE))
    page = client_for(server.base_url).events_page(after="", limit=10)
    assert (page.events, page.has_more) == ([], False)
    assert len(server.received) == 2


def test_a_get_is_retried_after_a_timeout(server):
    server.answer(Answer(200, EMPTY_PAGE, delay=1.0), Answer(200, EMPTY_PAGE))
    client_for(server.base_url, timeout=0.3).events_page(after="", limit=10)
    assert len(server.received) == 2


def test_retries_stop_after_the_configured_number_and_say_why(server):
    server.answer(Answer(502, {"code": "bad_gateway", "message": "down"}))
    with pytest.raises(JlisUnavailable, match="HTTP 502 bad_gateway"):
        client_for(server.base_url).events_page(after="", limit=10)
    assert len(server.received) == 3  # the call and two retries


def test_429_is_retried_after_the_time_j_lis_asks_for(server):
    server.answer(
        Answer(429, {"code": "rate_limited", "message": "slow"}, headers={"Retry-After": "0"}), Answer(200, EMPTY_PAGE)
    )
    client_for(server.base_url).events_page(after="", limit=10)
    assert len(server.received) == 2


def test_a_refusal_is_not_retried_and_carries_code_and_message(server):
    server.answer(Answer(404, {"code": "consent_not_found", "message": "no such consent"}))
    with pytest.raises(JlisRefused) as caught:
        client_for(server.base_url).consent_status(consent_id="jc_1")
    assert (caught.value.status, caught.value.code, caught.value.message) == (
        404,
        "consent_not_found",
        "no such consent",
    )
    assert len(server.received) == 1


def test_a_refusal_without_the_error_shape_is_still_typed(server):
    server.answer(Answer(400, b"<html>bad</html>"))
    with pytest.raises(JlisRefused) as caught:
        submit(client_for(server.base_url))
    assert caught.value.code == "http_400"


def test_a_post_is_retried_only_with_its_idempotency_key_every_time(server):
    server.answer(
        Answer(503, {"code": "unavailable", "message": "x"}), Answer(202, {"consent_id": "jc_9", "status": "pending"})
    )
    result = submit(client_for(server.base_url), key="row-key-7")
    assert result.consent_id == "jc_9"
    assert [r.headers.get("Idempotency-Key") for r in server.received] == ["row-key-7", "row-key-7"]
    sent = json.loads(server.received[0].body)
    assert sent == {
        "reference": "C-1",
        "statement": "cw==",
        "signature": "c2ln",
        "certificate": "ZGVy",
        "items": ["address"],
    }


def test_a_post_without_a_key_is_never_repeated(server):
    server.answer(Answer(503, {"code": "unavailable", "message": "x"}))
    with pytest.raises(JlisUnavailable):
        client_for(server.base_url)._call("POST", "/v1/consents", body={})
    assert len(server.received) == 1


def test_a_truncated_body_is_read_again_then_refused_as_malformed(server):
    server.answer(Answer(200, b'{"events": [{"id": "ev_1", "ki'))
    with pytest.raises(JlisProtocolError, match="not JSON"):
        client_for(server.base_url).events_page(after="", limit=10)
    assert len(server.received) == 3


def test_a_page_with_a_wrong_shape_is_refused_whole_without_retrying(server):
    server.answer(Answer(200, {"events": {}, "next_cursor": "p", "has_more": False}))
    with pytest.raises(JlisProtocolError, match="malformed page: events is not a list"):
        client_for(server.base_url).events_page(after="", limit=10)
    assert len(server.received) == 1


@pytest.mark.parametrize(
    "answer",
    [{"status": "pending"}, {"consent_id": "jc 1", "status": "pending"}, {"consent_id": "jc_1", "status": "done"}, []],
)
def test_a_malformed_submit_answer_is_an_error_not_half_used(server, answer):
    server.answer(Answer(202, answer))
    with pytest.raises(JlisProtocolError, match="malformed answer"):
        submit(client_for(server.base_url))


def test_a_status_answer_is_checked_field_by_field(server):
    good = {
        "consent_id": "jc_1",
        "reference": "C-1",
        "status": "active",
        "items": ["name"],
        "consent_date": "2026-04-02",
    }
    server.answer(Answer(200, good))
    state = client_for(server.base_url).consent_status(consent_id="jc_1")
    assert (state.status, state.items, state.consent_date) == ("active", ("name",), "2026-04-02")
    for broken in ({**good, "items": ["sex"]}, {**good, "consent_date": "2026-4-2"}, {**good, "consent_id": "jc_2"}):
        server.answer(Answer(200, broken))
        with pytest.raises(JlisProtocolError):
            client_for(server.base_url).consent_status(consent_id="jc_1")


def test_a_body_over_the_limit_is_refused(server, monkeypatch):
    monkeypatch.setattr("jlis_gateway.client.api.MAX_BODY_BYTES", 1000)
    server.answer(Answer(200, {"events": [], "next_cursor": "x" * 2000, "has_more": False}))
    with pytest.raises(JlisProtocolError, match="larger than 1000 bytes"):
        client_for(server.base_url).events_page(after="", limit=10)


def test_production_refuses_plain_http_and_a_missing_client_certificate(settings):
    settings.PRODUCTION = True
    settings.JLIS_BASE_URL = "http://jlis.example"
    with pytest.raises(ImproperlyConfigured, match="https"):
        JlisClient.from_settings()
    settings.JLIS_BASE_URL = "https://jlis.example"
    with pytest.raises(ImproperlyConfigured, match="JLIS_CLIENT_CERT"):
        JlisClient.from_settings()


# --- mutual TLS -------------------------------------------------------------------------------
def _certificate(subject: str, key, issuer_key, issuer_name=None, *, ca=False, ip=None) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ip:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, key, certificate: x509.Certificate) -> tuple[str, str]:
    key_path, cert_path = path.with_suffix(".key"), path.with_suffix(".pem")
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return str(cert_path), str(key_path)


@pytest.fixture(scope="module")
def mutual_tls(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mtls")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("test ca", ca_key, ca_key, ca=True)
    ca_path, _ = _write(folder / "ca", ca_key, ca)
    server_key, client_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    server_files = _write(
        folder / "server", server_key, _certificate("jlis", server_key, ca_key, ca.subject, ip="127.0.0.1")
    )
    client_files = _write(folder / "client", client_key, _certificate("onestop", client_key, ca_key, ca.subject))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*server_files)
    context.load_verify_locations(ca_path)
    context.verify_mode = ssl.CERT_REQUIRED
    running = ScriptedServer(tls=context)
    running.answer(Answer(200, EMPTY_PAGE))
    yield running, ca_path, client_files
    running.close()


def test_mutual_tls_presents_our_certificate_and_trusts_only_the_configured_ca(mutual_tls, settings):
    server, ca_path, (cert_path, key_path) = mutual_tls
    settings.JLIS_BASE_URL, settings.JLIS_CA_BUNDLE = server.base_url, ca_path
    settings.JLIS_CLIENT_CERT, settings.JLIS_CLIENT_KEY = cert_path, key_path
    settings.JLIS_RETRIES = 0
    page = JlisClient.from_settings().events_page(after="", limit=10)
    assert page.events == []


def test_mutual_tls_without_our_certificate_gets_nothing(mutual_tls):
    server, ca_path, _files = mutual_tls
    server.received = []
    with pytest.raises(JlisUnavailable):
        client_for(server.base_url, ca_bundle=ca_path).events_page(after="", limit=10)
    assert server.received == []


def test_mutual_tls_refuses_a_server_outside_the_ca_bundle(mutual_tls, tmp_path):
    server, _ca_path, (cert_path, key_path) = mutual_tls
    other_key = ec.generate_private_key(ec.SECP256R1())
    other_ca, _ = _write(tmp_path / "other", other_key, _certificate("other", other_key, other_key, ca=True))
    with pytest.raises(JlisUnavailable, match="connection failed"):
        client_for(server.base_url, ca_bundle=other_ca, client_cert=cert_path, client_key=key_path).events_page(
            after="", limit=10
        )
