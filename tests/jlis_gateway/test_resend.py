"""A supervisor sends again a message to J-LIS the relay gave up on (issue 18, "Worklist and
status"): confirmed, audited, with the same idempotency key; never a message J-LIS refused, nor
the submission of a consent that no longer waits; clerks and other prefectures cannot."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from consents.models import Consent, ConsentStatus
from consents.services import consent_revoke
from consents.services.resend import ResendRefused, outbox_resend
from jlis_gateway.models import OutboxKind, OutboxMessage, OutboxStatus
from jlis_gateway.services.relay import outbox_send
from jlis_gateway.services.resend import outbox_message_resend
from onestop.models import AuditEvent
from onestop.roles import Role
from tests.conftest import _staff
from tests.jlis_fixtures import wait_until

GAVE_UP = "gave up after 10 attempts: POST /v1/consents: HTTP 503 unavailable"


def _row(consent: Consent, *, status=OutboxStatus.FAILED, last_error=GAVE_UP, kind=OutboxKind.SUBMIT_CONSENT):
    now = timezone.now() - timedelta(hours=1)
    return OutboxMessage.objects.create(
        kind=kind, consent=consent, idempotency_key=f"key-{consent.pk}-{kind}", status=status, attempts=10,
        next_attempt_at=now, created_at=now, claimed_at=now, last_error=last_error,
    )  # fmt: skip


@pytest.mark.django_db
def test_a_supervisor_confirms_then_the_row_waits_to_be_sent_with_the_same_key(client, supervisor, signed_consent):
    row = _row(signed_consent())
    url = reverse("consents:outbox-resend", args=[row.pk])
    client.force_login(supervisor)
    page = client.get(url).content.decode()
    assert "この送信をJ-LISへ再送しますか" in page and "10回試みて送信を断念しました" in page
    assert client.post(url).status_code == 200  # without the confirmation: asked again, nothing done
    row.refresh_from_db()
    assert row.status == OutboxStatus.FAILED
    response = client.post(url, {"confirmed": "1"})
    assert response.status_code == 302 and response["Location"] == reverse("consents:worklist")
    row.refresh_from_db()
    assert (row.status, row.attempts, row.idempotency_key, row.last_error) == (
        OutboxStatus.PENDING, 0, f"key-{row.consent_id}-{OutboxKind.SUBMIT_CONSENT}", "",
    )  # fmt: skip
    assert row.next_attempt_at <= timezone.now()  # due now: the relay's next pass sends it
    audit = AuditEvent.objects.get(action="consent.jlis_resend")
    assert (audit.actor_id, audit.subject_id, audit.record_number) == (
        supervisor.pk, str(row.consent_id), row.consent.record.number,
    )  # fmt: skip
    assert audit.old_values["status"] == "failed" and audit.old_values["reason"] == GAVE_UP


@pytest.mark.django_db
def test_a_clerk_cannot_resend(client, clerk, signed_consent):
    row = _row(signed_consent())
    client.force_login(clerk)
    url = reverse("consents:outbox-resend", args=[row.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"confirmed": "1"}).status_code == 403
    with pytest.raises(ResendRefused) as refused:
        outbox_resend(message_id=row.pk, actor=clerk)
    assert refused.value.code == "forbidden"
    row.refresh_from_db()
    assert row.status == OutboxStatus.FAILED


@pytest.mark.django_db
def test_a_supervisor_of_another_prefecture_cannot_resend(client, osaka_office, signed_consent):
    row = _row(signed_consent())  # a Tokyo holder
    oscar = _staff("oscar", Role.SUPERVISOR, osaka_office)
    client.force_login(oscar)
    assert client.post(reverse("consents:outbox-resend", args=[row.pk]), {"confirmed": "1"}).status_code == 403
    with pytest.raises(ResendRefused) as refused:
        outbox_resend(message_id=row.pk, actor=oscar)
    assert refused.value.code == "wrong_prefecture"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "last_error", "code"),
    [
        (OutboxStatus.PENDING, "", "not_given_up"),
        (OutboxStatus.SENDING, "", "not_given_up"),
        (OutboxStatus.SENT, "", "not_given_up"),
        (OutboxStatus.FAILED, "J-LIS refused: HTTP 422 invalid_items: bad", "refused"),
        (OutboxStatus.FAILED, "the consent's signed statement is no longer held", "refused"),
    ],
)
def test_only_a_given_up_row_is_sent_again(client, supervisor, signed_consent, status, last_error, code):
    row = _row(signed_consent(), status=status, last_error=last_error)
    with pytest.raises(ResendRefused) as refused:
        outbox_resend(message_id=row.pk, actor=supervisor)
    assert refused.value.code == code
    client.force_login(supervisor)
    page = client.post(reverse("consents:outbox-resend", args=[row.pk]), {"confirmed": "1"}).content.decode()
    assert 'data-testid="resend-refused"' in page
    assert OutboxMessage.objects.get(pk=row.pk).status == status
    assert not AuditEvent.objects.filter(action="consent.jlis_resend").exists()


@pytest.mark.django_db
def test_the_submission_of_a_consent_revoked_since_is_not_sent_again(supervisor, signed_consent):
    consent = signed_consent()
    row = _row(consent)
    consent_revoke(consent_id=consent.pk, actor=supervisor, reason="本人の申出")
    with pytest.raises(ResendRefused) as refused:
        outbox_resend(message_id=row.pk, actor=supervisor)
    assert refused.value.code == "consent_not_pending"
    # The revocation's own message, given up, may be sent again.
    revocation = OutboxMessage.objects.get(consent=consent, kind=OutboxKind.REVOKE_CONSENT)
    OutboxMessage.objects.filter(pk=revocation.pk).update(status=OutboxStatus.FAILED, last_error=GAVE_UP)
    assert outbox_resend(message_id=revocation.pk, actor=supervisor).status == OutboxStatus.PENDING


@pytest.mark.faults
@pytest.mark.celery_worker
def test_a_row_that_gave_up_is_delivered_after_the_resend(
    client, supervisor, signed_consent, jlis_simulator, celery_worker_process, settings
):
    """End to end over real HTTP: J-LIS fails until the relay gives the row up; J-LIS comes back;
    the supervisor resends; the real worker sends it with the same key, and J-LIS acts once."""
    settings.JLIS_OUTBOX_MAX_ATTEMPTS = 2
    consent = signed_consent()
    # Written without queueing its send (and beat does not run here): the relay is driven in this
    # process until it gives the row up, then only the resend queues it for the worker.
    row = OutboxMessage.objects.create(
        kind=OutboxKind.SUBMIT_CONSENT, consent=consent, idempotency_key=uuid.uuid4().hex,
        next_attempt_at=timezone.now(), created_at=timezone.now(),
    )  # fmt: skip
    jlis_simulator.fault("error_5xx", target="submit", probability=1.0)
    assert outbox_send(message_id=row.pk).status == "retry"
    OutboxMessage.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert outbox_send(message_id=row.pk).status == "failed"
    row.refresh_from_db()
    assert row.status == OutboxStatus.FAILED and row.last_error.startswith("gave up after")
    jlis_simulator.faults_clear()
    client.force_login(supervisor)
    response = client.post(reverse("consents:outbox-resend", args=[row.pk]), {"confirmed": "1"})
    assert response.status_code == 302
    # The resend's commit queues the send; the real worker sends it.
    wait_until(lambda: OutboxMessage.objects.get(pk=row.pk).status == OutboxStatus.SENT, 60, "the row to be sent")
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.PENDING and consent.jlis_consent_id
    received = [r for r in jlis_simulator.requests() if r["key"] == row.idempotency_key]
    assert len(received) == 1 and received[0]["received"] >= 3  # every attempt carried the same key
    assert jlis_simulator.state()["consents"] == {"pending": 1}  # J-LIS acted once


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "last_error", "moves"),
    [
        (OutboxStatus.FAILED, GAVE_UP, True),
        (OutboxStatus.FAILED, "J-LIS refused: HTTP 422 invalid_items: bad", False),
        (OutboxStatus.PENDING, "", False),
        (OutboxStatus.SENT, "", False),
    ],
)
def test_the_gateway_puts_back_only_a_row_it_gave_up_on_and_only_once(signed_consent, status, last_error, moves):
    """The gateway's half, whoever calls it: a refused, waiting or sent row never moves."""
    row = _row(signed_consent(), status=status, last_error=last_error)
    assert outbox_message_resend(message_id=row.pk) is moves
    assert outbox_message_resend(message_id=row.pk) is False  # a second call finds nothing to put back
    after = OutboxMessage.objects.get(pk=row.pk)
    if moves:
        assert (after.status, after.attempts, after.last_error) == (OutboxStatus.PENDING, 0, "")
        assert after.idempotency_key == row.idempotency_key
    else:
        assert (after.status, after.attempts, after.last_error) == (status, 10, last_error)
