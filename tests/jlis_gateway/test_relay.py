"""The outbox relay against the simulator over real HTTP: J-LIS acts once per row, whatever
fails on the way, and every row ends sent or failed with its reason."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jlis_gateway.client import JlisClient
from jlis_gateway.models import OutboxKind, OutboxMessage, OutboxStatus
from jlis_gateway.outbox import outbox_enqueue
from jlis_gateway.services.relay import outbox_send, outbox_sweep
from onestop.models import AuditEvent
from tests.jlis_fixtures import wait_until

pytestmark = pytest.mark.django_db


def enqueue(consent, kind=OutboxKind.SUBMIT_CONSENT) -> OutboxMessage:
    with transaction.atomic():
        return outbox_enqueue(kind=kind, consent=consent)


def make_due(message: OutboxMessage) -> None:
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())


def requests_for(jlis_simulator, message: OutboxMessage) -> list[dict]:
    return [r for r in jlis_simulator.requests() if r["key"] == message.idempotency_key]


def test_a_submission_is_sent_with_its_key_and_the_jlis_consent_id_is_kept(jlis_simulator, signed_consent):
    consent = signed_consent()
    message = enqueue(consent)
    assert message.payload == {}  # the row holds no copy of the consent
    assert outbox_send(message_id=message.pk).status == "sent"
    message.refresh_from_db()
    consent.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (OutboxStatus.SENT, 1, "")
    assert consent.jlis_consent_id == message.response["consent_id"]
    assert JlisClient.from_settings().consent_status(consent_id=consent.jlis_consent_id).reference == consent.reference
    [received] = requests_for(jlis_simulator, message)
    assert (received["path"], received["received"]) == ("/v1/consents", 1)
    audit = AuditEvent.objects.get(action="consent.jlis_sent")
    assert (audit.subject_id, audit.actor_label, audit.new_values["consent_id"]) == (
        str(consent.pk),
        "jlis-relay",
        consent.jlis_consent_id,
    )
    assert outbox_send(message_id=message.pk).status == "not_claimed"  # sent rows are never sent again


def test_a_revocation_waits_for_its_submission_then_revokes_at_jlis(jlis_simulator, signed_consent):
    consent = signed_consent()
    submission, revocation = enqueue(consent), enqueue(consent, OutboxKind.REVOKE_CONSENT)
    waiting = outbox_send(message_id=revocation.pk)
    revocation.refresh_from_db()
    assert waiting.status == "waiting"
    assert (revocation.status, revocation.attempts) == (OutboxStatus.PENDING, 0)
    assert "submission" in revocation.last_error
    outbox_send(message_id=submission.pk)
    make_due(revocation)
    assert outbox_send(message_id=revocation.pk).status == "sent"
    consent.refresh_from_db()
    assert JlisClient.from_settings().consent_status(consent_id=consent.jlis_consent_id).status == "revoked"


def test_a_refusal_fails_the_row_with_the_reason_at_once(jlis_simulator, signed_consent):
    consent = signed_consent(items=("address", "sex"))
    message = enqueue(consent)
    assert outbox_send(message_id=message.pk).status == "failed"
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, 1)
    assert "invalid_items" in message.last_error
    assert AuditEvent.objects.filter(action="consent.jlis_failed").count() == 1
    # J-LIS will never reflect it: the counter shows it rejected with the reason, not pending.
    consent.refresh_from_db()
    assert consent.status == "rejected" and "invalid_items" in consent.rejected_reason


def test_an_erased_consent_is_not_sent(jlis_simulator, signed_consent):
    consent = signed_consent()
    type(consent).objects.filter(pk=consent.pk).update(statement_bytes=b"", signature=b"", certificate=b"")
    message = enqueue(consent)
    assert outbox_send(message_id=message.pk).status == "failed"
    message.refresh_from_db()
    assert "no longer held" in message.last_error
    assert jlis_simulator.requests() == []


@pytest.mark.faults
def test_a_transient_failure_is_retried_later_with_the_same_key(jlis_simulator, signed_consent):
    message = enqueue(signed_consent())
    jlis_simulator.fault("error_5xx", target="submit", count=settings.JLIS_RETRIES + 1)
    retry = outbox_send(message_id=message.pk)
    message.refresh_from_db()
    assert retry.status == "retry" and retry.retry_at > timezone.now() - timedelta(seconds=1)
    assert (message.status, message.attempts, message.next_attempt_at) == (OutboxStatus.PENDING, 1, retry.retry_at)
    assert "HTTP 503" in message.last_error  # the monitor shows it
    make_due(message)
    assert outbox_send(message_id=message.pk).status == "sent"
    [received] = requests_for(jlis_simulator, message)
    assert received["received"] == settings.JLIS_RETRIES + 2  # every attempt carried this key
    assert jlis_simulator.state()["consents"] == {"pending": 1}


@pytest.mark.faults
@pytest.mark.parametrize("kind", ["delay", "truncated", "malformed_body"])
def test_an_answer_lost_after_jlis_acted_does_not_make_it_act_twice(jlis_simulator, signed_consent, kind):
    message = enqueue(signed_consent())
    delay = settings.JLIS_TIMEOUT_SECONDS + 1 if kind == "delay" else None
    jlis_simulator.fault(kind, target="submit", count=1, delay=delay)
    result = outbox_send(message_id=message.pk)
    if result.status == "retry":  # a wrong shape is not retried within the call
        make_due(message)
        result = outbox_send(message_id=message.pk)
    assert result.status == "sent"
    # The lost answer's request and its repeat both reached J-LIS; one of them was a replay
    # (the delayed one answers after the repeat, once it wakes).
    wait_until(lambda: requests_for(jlis_simulator, message)[0]["replays"] >= 1, 30, "the replay")
    assert requests_for(jlis_simulator, message)[0]["received"] >= 2
    assert jlis_simulator.state()["consents"] == {"pending": 1}  # acted once


@pytest.mark.faults
def test_after_the_last_attempt_the_row_fails_with_the_reason(jlis_simulator, signed_consent, settings):
    settings.JLIS_OUTBOX_MAX_ATTEMPTS = 2
    message = enqueue(signed_consent())
    jlis_simulator.fault("error_5xx", target="submit", probability=1.0)
    assert outbox_send(message_id=message.pk).status == "retry"
    make_due(message)
    assert outbox_send(message_id=message.pk).status == "failed"
    message.refresh_from_db()
    assert message.status == OutboxStatus.FAILED
    assert message.last_error.startswith("gave up after 2 attempts") and "HTTP 503" in message.last_error


@pytest.mark.faults
def test_a_row_left_sending_by_a_dead_worker_is_reclaimed_and_jlis_acts_once(jlis_simulator, signed_consent):
    consent = signed_consent()
    message = enqueue(consent)
    # The dead worker's call reached J-LIS; its outcome was never written.
    first = JlisClient.from_settings().submit_consent(
        idempotency_key=message.idempotency_key,
        reference=consent.reference,
        statement=bytes(consent.statement_bytes),
        signature=bytes(consent.signature),
        certificate=bytes(consent.certificate),
        items=consent.items,
    )
    long_ago = timezone.now() - timedelta(seconds=settings.JLIS_OUTBOX_SENDING_TIMEOUT_SECONDS + 1)
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.SENDING, claimed_at=long_ago, attempts=1)
    assert outbox_sweep() == {"reclaimed": 1, "more": 0, "sent": 1}
    message.refresh_from_db()
    consent.refresh_from_db()
    assert (message.status, consent.jlis_consent_id) == (OutboxStatus.SENT, first.consent_id)
    assert jlis_simulator.state()["consents"] == {"pending": 1}


def test_a_row_still_sending_within_the_timeout_is_left_alone(jlis_simulator, signed_consent):
    message = enqueue(signed_consent())
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.SENDING, claimed_at=timezone.now())
    assert outbox_sweep() == {"reclaimed": 0, "more": 0}
    assert jlis_simulator.requests() == []


def test_a_sender_whose_row_was_reclaimed_cannot_write_its_outcome(jlis_simulator, signed_consent):
    from jlis_gateway.services.relay import _finish

    message = enqueue(signed_consent())
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxStatus.SENDING, claimed_at=timezone.now())
    stale = OutboxMessage.objects.get(pk=message.pk)
    OutboxMessage.objects.filter(pk=message.pk).update(claimed_at=timezone.now() + timedelta(seconds=1))  # reclaimed
    assert _finish(stale, status=OutboxStatus.FAILED, last_error="late") == 0
    assert OutboxMessage.objects.get(pk=message.pk).status == OutboxStatus.SENDING


def test_the_sweep_sends_due_rows_in_order_and_leaves_future_ones(jlis_simulator, signed_consent):
    due = [enqueue(signed_consent()) for _ in range(3)]
    later = enqueue(signed_consent())
    OutboxMessage.objects.filter(pk=later.pk).update(next_attempt_at=timezone.now() + timedelta(hours=1))
    assert outbox_sweep(limit=2)["more"] == 1
    assert outbox_sweep(limit=2) == {"reclaimed": 0, "more": 0, "sent": 1}
    assert set(OutboxMessage.objects.filter(status=OutboxStatus.SENT).values_list("pk", flat=True)) == {
        m.pk for m in due
    }
    assert [r["key"] for r in jlis_simulator.requests()] == [m.idempotency_key for m in due]
