"""The safeguard services as production runs them (autocommit, no outer transaction: Django's
TestCase hides `durable=True` nesting errors), and J-LIS told through the real relay."""

from __future__ import annotations

from datetime import date

import pytest

from consents.models import ConsentStatus
from jlis_gateway.client import JlisClient
from jlis_gateway.models import OutboxKind, OutboxMessage
from jlis_gateway.services.relay import outbox_send
from onestop.audit import audit_chain_verify
from onestop.audit_chain import audit_chain_link
from onestop.models import AuditEvent
from safeguards.models import DisclosureStatus, SuspensionStatus
from safeguards.services import (
    disclosure_answer,
    disclosure_close,
    disclosure_fee_record,
    disclosure_identity_check,
    disclosure_register,
    suspension_confirm,
    suspension_propose,
    suspension_reject,
)


@pytest.mark.django_db(transaction=True)
def test_each_service_commits_on_its_own_with_its_audit_events(suspect, supervisor, second_supervisor):
    first = suspension_propose(
        record_id=suspect.record.pk, actor=supervisor, reason_code="other", grounds="suspected", note="確認中"
    )
    suspension_reject(request_id=first.pk, actor=second_supervisor, note="事実なし")
    second = suspension_propose(
        record_id=suspect.record.pk, actor=second_supervisor, reason_code="misuse", grounds="evident", note="目的外"
    )
    assert suspension_confirm(request_id=second.pk, actor=supervisor).status == SuspensionStatus.CONFIRMED
    request = disclosure_register(
        record_id=suspect.record.pk,
        actor=supervisor,
        requester_kind="holder",
        requester_name="鈴木　一朗",
        received_on=date(2026, 11, 20),
    )
    disclosure_identity_check(request_id=request.pk, actor=supervisor, document="passport")
    disclosure_fee_record(
        request_id=request.pk, actor=supervisor, amount=300, receipt_number="R-9", paid_on=date(2026, 11, 21)
    )
    disclosure_answer(request_id=request.pk, actor=supervisor, method="post", answered_on=date(2026, 12, 1))
    assert disclosure_close(request_id=request.pk, actor=supervisor).status == DisclosureStatus.CLOSED
    audit_chain_link()  # as the chainer does after the commits
    assert audit_chain_verify() is None
    assert AuditEvent.objects.filter(action="holder_data.erase").count() == 1


@pytest.mark.django_db
def test_r15_jlis_revokes_the_suspended_consent_through_the_relay(
    jlis_simulator, register, record, supervisor, second_supervisor
):
    consent = register(record)
    submission = OutboxMessage.objects.get(consent=consent, kind=OutboxKind.SUBMIT_CONSENT)
    assert outbox_send(message_id=submission.pk).status == "sent"
    consent.refresh_from_db()
    jlis = JlisClient.from_settings()
    assert jlis.consent_status(consent_id=consent.jlis_consent_id).status != "revoked"
    proposal = suspension_propose(
        record_id=record.pk, actor=supervisor, reason_code="not_the_holder", grounds="evident", note="なりすまし"
    )
    suspension_confirm(request_id=proposal.pk, actor=second_supervisor)
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.SUSPENDED and bytes(consent.certificate) == b""
    revocation = OutboxMessage.objects.get(consent=consent, kind=OutboxKind.REVOKE_CONSENT)
    assert outbox_send(message_id=revocation.pk).status == "sent"  # built without the erased data
    assert jlis.consent_status(consent_id=consent.jlis_consent_id).status == "revoked"
