"""Withdrawing a pending consent taken by mistake (issue 18): a supervisor of the holder's
prefecture, with a reason (R14), after a confirmation step; audited; the submission is never sent
if the relay has not taken it; a withdrawn consent never governs (R6: it never took effect).
J-LIS's side, over HTTP, is in tests/jlis_gateway/test_withdrawal.py."""

from __future__ import annotations

import pytest
from django.urls import reverse

from consents.errors import ConsentRefused
from consents.feed import FeedState, record_feed
from consents.governing import governing_consent
from consents.models import Consent, ConsentStatus
from consents.services import consent_reflect, consent_withdraw
from jlis_gateway.models import OutboxKind, OutboxMessage, OutboxStatus
from onestop.models import AuditEvent

pytestmark = pytest.mark.django_db

REASON = "提供する事項の選択を誤ったため"
MY_NUMBER = "123456789018"  # 12345678901 and its check digit 8 (DOMAIN.md)


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_a_supervisor_withdraws_a_pending_consent_after_confirming(client, supervisor, record, register):
    consent = register(record)
    client.force_login(supervisor)
    holder_page = _page(client, reverse("counter:record", args=[record.pk]))
    url = reverse("consents:withdraw", args=[consent.pk])
    assert url in holder_page and "受付を取り下げる" in holder_page

    confirm = client.post(url, {"reason": REASON})
    assert confirm.status_code == 200
    assert f"同意 {consent.reference} の受付を取り下げますか" in confirm.content.decode()
    assert Consent.objects.get().status == ConsentStatus.PENDING  # not yet

    done = client.post(url, {"reason": REASON, "confirmed": "1"}, follow=True)
    assert "同意の受付を取り下げました" in done.content.decode()
    consent.refresh_from_db()
    assert (consent.status, consent.withdrawn_by, consent.withdrawn_reason) == (
        ConsentStatus.WITHDRAWN,
        supervisor,
        REASON,
    )
    # The relay had not taken the submission: it is never sent, so there is nothing to cancel.
    submission = OutboxMessage.objects.get(consent=consent, kind=OutboxKind.SUBMIT_CONSENT)
    assert submission.status == OutboxStatus.FAILED and "withdrawn" in submission.last_error
    assert not OutboxMessage.objects.filter(consent=consent, kind=OutboxKind.CANCEL_CONSENT).exists()
    audit = AuditEvent.objects.get(action="consent.withdraw")
    assert (audit.actor_id, audit.new_values["reason"], audit.new_values["status"]) == (
        supervisor.pk,
        REASON,
        "withdrawn",
    )
    # The holder page keeps it among the earlier consents, with who, when and why.
    history = _page(client, reverse("counter:record", args=[record.pk]))
    history = history[history.index('data-testid="consent-history"') :]
    assert consent.reference in history and "受付取下げ" in history and REASON in history


def test_a_submission_the_relay_has_claimed_is_followed_by_a_cancel(supervisor, record, register):
    consent = register(record)
    OutboxMessage.objects.filter(consent=consent).update(status=OutboxStatus.SENDING)  # the relay took it
    consent_withdraw(consent_id=consent.pk, actor=supervisor, reason=REASON)
    cancel = OutboxMessage.objects.get(consent=consent, kind=OutboxKind.CANCEL_CONSENT)
    assert cancel.status == OutboxStatus.PENDING
    assert OutboxMessage.objects.get(consent=consent, kind=OutboxKind.SUBMIT_CONSENT).status == OutboxStatus.SENDING


def test_a_clerk_cannot_withdraw(client, clerk, record, register):
    consent = register(record)
    client.force_login(clerk)
    assert client.get(reverse("consents:withdraw", args=[consent.pk])).status_code == 403
    assert (
        client.post(reverse("consents:withdraw", args=[consent.pk]), {"reason": REASON, "confirmed": "1"}).status_code
        == 403
    )
    with pytest.raises(ConsentRefused) as refused:
        consent_withdraw(consent_id=consent.pk, actor=clerk, reason=REASON)
    assert refused.value.code == "forbidden"
    assert Consent.objects.get().status == ConsentStatus.PENDING


def test_r04_a_supervisor_of_another_prefecture_cannot_withdraw(client, osaka_supervisor, record, register):
    consent = register(record)
    client.force_login(osaka_supervisor)
    response = client.post(reverse("consents:withdraw", args=[consent.pk]), {"reason": REASON, "confirmed": "1"})
    assert response.status_code == 403
    with pytest.raises(ConsentRefused) as refused:
        consent_withdraw(consent_id=consent.pk, actor=osaka_supervisor, reason=REASON)
    assert refused.value.code == "wrong_prefecture"
    assert Consent.objects.get().status == ConsentStatus.PENDING


@pytest.mark.parametrize("reason", ["", "  ", f"番号{MY_NUMBER}の方"])
def test_r14_a_withdrawal_needs_a_reason_without_a_my_number(client, supervisor, record, register, reason):
    consent = register(record)
    client.force_login(supervisor)
    response = client.post(reverse("consents:withdraw", args=[consent.pk]), {"reason": reason, "confirmed": "1"})
    assert response.status_code == 200
    assert "取り下げますか" not in response.content.decode()
    with pytest.raises(ConsentRefused):
        consent_withdraw(consent_id=consent.pk, actor=supervisor, reason=reason)
    assert Consent.objects.get().status == ConsentStatus.PENDING
    assert not AuditEvent.objects.filter(action="consent.withdraw").exists()


def test_a_consent_jlis_has_reflected_cannot_be_withdrawn_and_the_page_says_revoke_instead(
    client, supervisor, record, register
):
    consent = register(record)
    consent_reflect(consent_id=consent.pk, consent_date=consent.created_at.date(), jlis_consent_id="jc_1")
    client.force_login(supervisor)
    body = _page(client, reverse("consents:withdraw", args=[consent.pk]))
    assert "受付を取り下げることはできません。同意の取消を行ってください。" in body
    assert reverse("consents:revoke", args=[consent.pk]) in body
    with pytest.raises(ConsentRefused) as refused:
        consent_withdraw(consent_id=consent.pk, actor=supervisor, reason=REASON)
    assert refused.value.code == "withdraw_reflected"
    assert Consent.objects.get().status == ConsentStatus.ACTIVE


def test_r06_a_withdrawn_consent_never_governs(supervisor, record, register):
    active = register(record)
    consent_reflect(consent_id=active.pk, consent_date=active.created_at.date(), jlis_consent_id="jc_1")
    mistaken = register(record)
    consent_withdraw(consent_id=mistaken.pk, actor=supervisor, reason=REASON)
    record = type(record).objects.get(pk=record.pk)
    assert governing_consent(record).pk == active.pk
    assert record_feed(record).state != FeedState.PENDING


def test_r06_a_holder_whose_only_consent_was_withdrawn_has_none(supervisor, record, register):
    consent = register(record)
    consent_withdraw(consent_id=consent.pk, actor=supervisor, reason=REASON)
    record = type(record).objects.get(pk=record.pk)
    assert governing_consent(record) is None
    assert record_feed(record).state == FeedState.NONE


def test_a_reflection_for_a_withdrawn_consent_applies_nothing(supervisor, record, register):
    consent = register(record)
    consent_withdraw(consent_id=consent.pk, actor=supervisor, reason=REASON)
    outcome = consent_reflect(consent_id=consent.pk, consent_date=consent.created_at.date(), jlis_consent_id="jc_1")
    assert (outcome.applied, outcome.reason) == (False, "consent_withdrawn")
    consent.refresh_from_db()
    record.refresh_from_db()
    assert consent.status == ConsentStatus.WITHDRAWN and consent.consent_date is None
    assert record.cert_serial == ""  # R13: nothing linked under a consent that never took effect
