"""Withdrawing a pending consent taken by mistake, through the real outbox relay to the J-LIS
simulator over HTTP, and the reflection racing the cancel (issue 18; docs/jlis-protocol.md,
"Cancel a consent not yet reflected"). What J-LIS holds is read from the simulator."""

from __future__ import annotations

from datetime import date

import pytest

from applier.batch import events_apply_pending
from consents.feed import FeedState, record_feed
from consents.models import ConsentStatus, TermsVersion
from consents.services import consent_withdraw
from jlis_gateway.client import JlisClient
from jlis_gateway.models import JlisEvent, OutboxKind, OutboxMessage, OutboxStatus
from jlis_gateway.services.poll import events_poll
from jlis_gateway.services.relay import outbox_send, outbox_sweep
from tests.counter_flow import register_at_counter
from tests.factories import DriverRecordFactory

pytestmark = pytest.mark.django_db(transaction=True)
REASON = "別の方の同意として誤って受け付けたため"


@pytest.fixture
def record(db):
    TermsVersion.objects.create(version="2025.1", effective_date=date(2025, 3, 24), text="利用規約")
    return DriverRecordFactory(address="東京都千代田区霞が関二丁目１番１号", name="山田　太郎")


def poll_and_apply():
    while events_poll().has_more:
        pass
    return events_apply_pending()


def jlis_status(consent) -> str:
    return JlisClient.from_settings().consent_status(consent_id=consent.jlis_consent_id).status


def only(consent, kind) -> OutboxMessage:
    return OutboxMessage.objects.get(consent=consent, kind=kind)


def test_a_withdrawn_consent_is_cancelled_at_jlis_and_never_reflected(
    record, clerk, supervisor, issue_card_for, jlis_simulator
):
    consent = register_at_counter(record, clerk, issue_card_for(record), ("address",))
    consent_withdraw(consent_id=consent.pk, actor=supervisor, reason=REASON)
    cancel = only(consent, OutboxKind.CANCEL_CONSENT)
    assert outbox_send(message_id=cancel.pk).status == "sent"
    assert jlis_status(consent) == "cancelled"

    assert jlis_simulator.reflect()["consents"] == []  # J-LIS's batch passes it by
    poll_and_apply()
    consent.refresh_from_db()
    record.refresh_from_db()
    assert consent.status == ConsentStatus.WITHDRAWN
    assert not JlisEvent.objects.exists()
    assert record_feed(record).state == FeedState.NONE


def test_a_submission_not_yet_sent_never_reaches_jlis(record, clerk, supervisor, issue_card_for, jlis_simulator):
    card = issue_card_for(record)
    from consents.services import consent_register, statement_create

    statement = statement_create(record_id=record.pk, items=["name"], actor=clerk)
    consent = consent_register(
        statement_id=statement.pk,
        signature=card.sign(statement.text.encode("utf-8")),
        certificate_der=card.certificate_der,
        actor=clerk,
    )
    consent_withdraw(consent_id=consent.pk, actor=supervisor, reason=REASON)
    outbox_sweep()
    assert [r for r in jlis_simulator.requests() if r["reference"] == consent.reference] == []
    assert only(consent, OutboxKind.SUBMIT_CONSENT).status == OutboxStatus.FAILED
    assert not OutboxMessage.objects.filter(consent=consent, kind=OutboxKind.CANCEL_CONSENT).exists()


def test_jlis_reflected_before_the_cancel_reached_it_so_the_consent_is_revoked_instead(
    record, clerk, supervisor, issue_card_for, jlis_simulator
):
    consent = register_at_counter(record, clerk, issue_card_for(record), ("address",))
    jlis_simulator.reflect()  # J-LIS reflects; its event waits in the feed, not yet read
    consent_withdraw(consent_id=consent.pk, actor=supervisor, reason=REASON)  # still pending here

    cancel = only(consent, OutboxKind.CANCEL_CONSENT)
    assert outbox_send(message_id=cancel.pk).status == "failed"
    cancel.refresh_from_db()
    assert "consent_already_reflected" in cancel.last_error
    consent.refresh_from_db()
    # In force at J-LIS: the only way to end it is a revocation, by the same supervisor and reason.
    assert (consent.status, consent.revoked_by, consent.revoked_reason, consent.revoked_channel) == (
        ConsentStatus.REVOKED,
        supervisor,
        REASON,
        "counter",
    )
    revocation = only(consent, OutboxKind.REVOKE_CONSENT)
    assert outbox_send(message_id=revocation.pk).status == "sent"
    assert jlis_status(consent) == "revoked"

    poll_and_apply()  # the reflection arrives now: nothing is applied under the ended consent (R9)
    event = JlisEvent.objects.get(kind="consent_reflected")
    assert (event.status, event.reason) == ("skipped", "consent_revoked")
    consent.refresh_from_db()
    record.refresh_from_db()
    assert consent.status == ConsentStatus.REVOKED and consent.consent_date is None
    assert record.cert_serial == ""  # R13: not linked under it
    assert record_feed(record).state == FeedState.REVOKED


def test_the_reflection_arriving_after_the_cancel_was_queued_applies_nothing(
    record, clerk, supervisor, issue_card_for, jlis_simulator
):
    consent = register_at_counter(record, clerk, issue_card_for(record), ("address", "name"))
    jlis_simulator.reflect()
    consent_withdraw(consent_id=consent.pk, actor=supervisor, reason=REASON)  # the cancel is queued, not sent

    poll_and_apply()  # the reflection reaches us first
    event = JlisEvent.objects.get(kind="consent_reflected")
    assert (event.status, event.reason) == ("skipped", "consent_withdrawn")
    consent.refresh_from_db()
    record.refresh_from_db()
    assert consent.status == ConsentStatus.WITHDRAWN and consent.consent_date is None
    assert record.cert_serial == ""
    assert record_feed(record).state == FeedState.NONE

    # Then the cancel: J-LIS refuses it, the consent is revoked there instead.
    assert outbox_send(message_id=only(consent, OutboxKind.CANCEL_CONSENT).pk).status == "failed"
    assert outbox_send(message_id=only(consent, OutboxKind.REVOKE_CONSENT).pk).status == "sent"
    assert jlis_status(consent) == "revoked"
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.REVOKED
