"""The counter terminal's REST API: statements, signatures, status; errors as {code, message};
idempotent POSTs."""

from __future__ import annotations

import base64
import json
from datetime import date

import pytest
from django.core.management import call_command
from django.urls import reverse

from consents.models import Consent, ConsentStatement, ConsentStatus
from consents.services import consent_reflect
from consents.services.terminals import terminal_create, terminal_revoke
from jlis_gateway.models import OutboxMessage
from onestop.models import AuditEvent
from tests.factories import DriverRecordFactory

from .conftest import signed

pytestmark = pytest.mark.django_db

STATEMENTS = "/api/v1/statements/"


def post(client, url, body, key="key-00000001", **headers):
    if key:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(
        url, json.dumps(body) if not isinstance(body, str) else body, content_type="application/json", **headers
    )


def error(response, status: int, code: str) -> str:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code
    assert body["message"]
    return body["message"]


@pytest.fixture
def terminal(tokyo_office):
    terminal, token = terminal_create(name="府中1", office=tokyo_office, actor=None)
    return terminal, {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_without_credentials_the_answer_is_401_with_a_code(client, record):
    error(post(client, STATEMENTS, {"record_id": record.pk, "items": ["address"]}), 401, "not_authenticated")
    error(client.get(f"/api/v1/records/{record.pk}/consent-status/"), 401, "not_authenticated")


def test_clerk_creates_a_statement_the_terminal_signs(client, clerk, record, terms, terminal, issue_card_for):
    client.force_login(clerk)
    response = post(client, STATEMENTS, {"record_id": record.pk, "items": ["name", "address"]})
    assert response.status_code == 201
    statement = response.json()
    assert statement["items"] == ["address", "name"]
    assert statement["terms_version"] == "2025.1"
    text = base64.b64decode(statement["text_base64"])
    assert text == statement["text"].encode("utf-8")

    _terminal, auth = terminal
    client.logout()
    read = client.get(f"{STATEMENTS}{statement['id']}/", **auth)
    assert read.json()["text_base64"] == statement["text_base64"]

    card = issue_card_for(record)
    signed_body = {"signature": b64(card.sign(text)), "certificate": b64(card.certificate_der)}
    created = post(client, f"{STATEMENTS}{statement['id']}/signature/", signed_body, key="sign-0000001", **auth)

    assert created.status_code == 201
    consent = created.json()
    assert (consent["status"], consent["items"], consent["consent_date"]) == ("pending", ["address", "name"], None)
    assert Consent.objects.get().cert_serial == card.serial
    assert AuditEvent.objects.get(action="consent.register").actor_label == "terminal:府中1"


def test_r01_r04_refusals_carry_their_codes(client, clerk, terms):
    client.force_login(clerk)
    two_cards = DriverRecordFactory(holding_status="licence_both")
    message = error(post(client, STATEMENTS, {"record_id": two_cards.pk, "items": ["address"]}), 422, "not_eligible")
    assert "2枚持ち" in message
    osaka = DriverRecordFactory(address="大阪府門真市一番町２３番１６号")
    error(
        post(client, STATEMENTS, {"record_id": osaka.pk, "items": ["address"]}, key="key-00000002"),
        422,
        "wrong_prefecture",
    )
    error(
        post(client, STATEMENTS, {"record_id": 999999, "items": ["address"]}, key="key-00000003"),
        404,
        "record_not_found",
    )


def test_r02_items_are_checked(client, clerk, record, terms):
    client.force_login(clerk)
    error(post(client, STATEMENTS, {"record_id": record.pk, "items": []}), 400, "no_items")
    error(post(client, STATEMENTS, {"record_id": record.pk, "items": ["sex"]}, key="key-00000002"), 400, "unknown_item")


def test_r03_bad_signature_is_refused_with_the_jpki_code_and_nothing_is_sent(
    client, clerk, record, make_statement, terminal, issue_card_for
):
    statement = make_statement(record)
    _terminal, auth = terminal
    card = issue_card_for(record)
    good = signed(statement, card)
    tampered = bytes([good["signature"][0] ^ 1]) + good["signature"][1:]
    body = {"signature": b64(tampered), "certificate": b64(card.certificate_der)}

    message = error(post(client, f"{STATEMENTS}{statement.pk}/signature/", body, **auth), 422, "signature_mismatch")

    assert "一致しません" in message
    assert not Consent.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_malformed_input_is_a_validation_error_never_a_500(client, record, make_statement, terminal, settings):
    statement = make_statement(record)
    _terminal, auth = terminal
    url = f"{STATEMENTS}{statement.pk}/signature/"
    not_base64 = post(client, url, {"signature": "***", "certificate": "AAAA"}, key="key-00000001", **auth)
    error(not_base64, 400, "validation_error")
    assert "signature" in not_base64.json()["errors"]
    error(post(client, url, "{not json", key="key-00000002", **auth), 400, "validation_error")
    too_long = {"signature": "A" * 5000, "certificate": "AAAA"}
    error(post(client, url, too_long, key="key-00000003", **auth), 400, "validation_error")
    error(post(client, url, {}, key=None, **auth), 400, "idempotency_key_required")
    error(post(client, url, {}, key="bad key!", **auth), 400, "validation_error")
    error(post(client, url, {"certificate": "A" * 70_000}, key="key-00000004", **auth), 413, "too_large")
    huge = {"certificate": "A" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}
    error(post(client, url, huge, key="key-00000005", **auth), 413, "too_large")
    error(post(client, url, huge, key=None, **auth), 413, "too_large")
    missing = f"{STATEMENTS}424242/signature/"
    error(
        post(client, missing, {"signature": "AAAA", "certificate": "AAAA"}, key="key-00000006", **auth),
        404,
        "statement_not_found",
    )


def test_repeated_post_with_the_same_key_replays_the_first_answer(
    client, record, make_statement, terminal, issue_card_for
):
    statement = make_statement(record)
    _terminal, auth = terminal
    card = issue_card_for(record)
    good = signed(statement, card)
    body = {"signature": b64(good["signature"]), "certificate": b64(good["certificate_der"])}
    url = f"{STATEMENTS}{statement.pk}/signature/"

    first = post(client, url, body, key="retry-000001", **auth)
    again = post(client, url, body, key="retry-000001", **auth)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Consent.objects.count() == 1
    assert OutboxMessage.objects.count() == 1
    # The same key for a different request is refused; a new key for the same statement is "used".
    error(
        post(client, url, {**body, "signature": b64(b"x" * 256)}, key="retry-000001", **auth),
        422,
        "idempotency_key_reused",
    )
    error(post(client, url, body, key="retry-000002", **auth), 409, "statement_used")


def test_terminal_of_another_office_cannot_use_the_statement(client, record, make_statement, osaka_office):
    statement = make_statement(record)
    _osaka, token = terminal_create(name="門真1", office=osaka_office, actor=None)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    error(client.get(f"{STATEMENTS}{statement.pk}/", **auth), 403, "statement_other_office")
    error(client.get(f"/api/v1/records/{record.pk}/consent-status/", **auth), 403, "forbidden")


def test_revoked_token_is_refused(client, record, terminal):
    terminal_obj, auth = terminal
    terminal_revoke(terminal_id=terminal_obj.pk, actor=None)
    error(client.get(f"/api/v1/records/{record.pk}/consent-status/", **auth), 401, "not_authenticated")


def test_a_terminal_cannot_make_statements(client, record, terms, terminal):
    _terminal, auth = terminal
    error(post(client, STATEMENTS, {"record_id": record.pk, "items": ["address"]}, **auth), 403, "forbidden")
    assert not ConsentStatement.objects.exists()


def test_r08_consent_status_in_the_api(client, auditor, record, register, terminal):
    consent = register(record, ("address", "birth_date"))
    consent_reflect(consent_id=consent.pk, consent_date=date(2026, 4, 1))
    client.force_login(auditor)

    status = client.get(f"/api/v1/records/{record.pk}/consent-status/").json()

    assert status["status"] == ConsentStatus.ACTIVE
    assert status["in_force"] is True
    assert status["eligibility"]["eligible"] is True
    assert status["consent"]["items"] == ["address", "birth_date"]
    assert (status["consent"]["consent_date"], status["consent"]["last_valid_day"]) == ("2026-04-01", "2036-04-01")
    assert status["consent"]["terms_version"] == "2025.1"
    assert status["pending"] == []
    assert status["feed_state"] == "active"
    assert AuditEvent.objects.filter(action="record.consent_status_view", actor=auditor).exists()
    _terminal, auth = terminal
    client.logout()
    assert client.get(f"/api/v1/records/{record.pk}/consent-status/", **auth).json()["status"] == "active"


def test_openapi_schema_is_complete_and_valid(client, clerk):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
    client.force_login(clerk)
    schema = client.get(reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json").content.decode()
    for path in ("/api/v1/statements/", "/api/v1/statements/{statement_id}/signature/", "consent-status"):
        assert path in schema
    assert "Idempotency-Key" in schema
    assert "terminalToken" in schema


def test_terminal_lists_the_statements_open_for_signing_at_its_office(
    client, clerk, record, make_statement, terminal, osaka_supervisor, register
):
    open_one = make_statement(record, ("address",))
    register(record)  # its statement is used: no longer open
    expired = make_statement(record)
    ConsentStatement.objects.filter(pk=expired.pk).update(expires_at=expired.created_at)
    _terminal, auth = terminal

    listed = client.get(STATEMENTS, **auth)

    assert listed.status_code == 200
    assert [s["id"] for s in listed.json()] == [open_one.pk]
    assert listed.json()[0]["text"] == open_one.text
    client.force_login(osaka_supervisor)
    assert client.get(STATEMENTS).json() == []  # another office's statements are not shown
