"""A consent revoked at the counter before its submission was sent (R9), through the real outbox
relay to the J-LIS simulator over HTTP. What J-LIS holds is read from the simulator."""

from __future__ import annotations

from datetime import date

import pytest

from consents.feed import FeedState, record_feed
from consents.models import ConsentStatus, TermsVersion
from consents.services import consent_revoke
from jlis_gateway.models import OutboxKind, OutboxMessage, OutboxStatus
from jlis_gateway.services.relay import outbox_sweep
from tests.counter_flow import register_at_counter, register_unsent
from tests.factories import DriverRecordFactory

pytestmark = pytest.mark.django_db(transaction=True)
REASON = "本人から取消しの申出があったため"


@pytest.fixture
def record(db):
    TermsVersion.objects.create(version="2025.1", effective_date=date(2025, 3, 24), text="利用規約")
    return DriverRecordFactory(address="東京都千代田区霞が関二丁目１番１号", name="山田　太郎")


def test_r09_a_consent_revoked_before_its_submission_was_sent_never_reaches_jlis(
    record, clerk, supervisor, issue_card_for, jlis_simulator
):
    """Order: registered at the counter (the relay has not sent it yet: J-LIS is slow, the worker
    busy), the holder asks at the counter to revoke it, then the relay runs. R9: after the
    revocation the consent gives nothing; J-LIS, which never had it, must not be handed the
    holder's signed consent now, to hold and show it in force (R8) until a revocation follows."""
    consent = register_unsent(record, clerk, issue_card_for(record), ["address"])
    consent_revoke(consent_id=consent.pk, actor=supervisor, reason=REASON)
    outbox_sweep()
    outbox_sweep()
    assert [r for r in jlis_simulator.requests() if r["reference"] == consent.reference] == []
    assert OutboxMessage.objects.get(consent=consent, kind=OutboxKind.SUBMIT_CONSENT).status == OutboxStatus.FAILED
    assert (
        not OutboxMessage.objects.filter(consent=consent, kind=OutboxKind.REVOKE_CONSENT)
        .exclude(status=OutboxStatus.FAILED)
        .exists()
    )
    consent.refresh_from_db()
    assert (consent.status, consent.revoked_by, consent.revoked_reason) == (ConsentStatus.REVOKED, supervisor, REASON)
    record.refresh_from_db()
    assert record_feed(record).state == FeedState.REVOKED


def test_r09_a_consent_revoked_after_its_submission_was_sent_is_revoked_at_jlis(
    record, clerk, supervisor, issue_card_for, jlis_simulator
):
    """The other order: J-LIS has it (sent, not yet reflected); the revocation is sent to J-LIS."""
    consent = register_at_counter(record, clerk, issue_card_for(record), ("address",))
    assert consent.jlis_consent_id
    consent_revoke(consent_id=consent.pk, actor=supervisor, reason=REASON)
    outbox_sweep()
    revocation = OutboxMessage.objects.get(consent=consent, kind=OutboxKind.REVOKE_CONSENT)
    assert revocation.status == OutboxStatus.SENT
    from jlis_gateway.client import JlisClient

    assert JlisClient.from_settings().consent_status(consent_id=consent.jlis_consent_id).status == "revoked"


def _withdraw(consent, supervisor, second_supervisor):
    from consents.services import consent_withdraw

    consent_withdraw(consent_id=consent.pk, actor=supervisor, reason=REASON)


def _revoke(consent, supervisor, second_supervisor):
    consent_revoke(consent_id=consent.pk, actor=supervisor, reason=REASON)


def _suspend(consent, supervisor, second_supervisor):
    from safeguards.services import suspension_confirm, suspension_propose

    proposal = suspension_propose(
        record_id=consent.record_id, actor=supervisor, reason_code="misuse", grounds="evident", note="目的外の利用"
    )
    suspension_confirm(request_id=proposal.pk, actor=second_supervisor)


@pytest.mark.faults
@pytest.mark.parametrize(
    "end",
    [
        _withdraw,
        _revoke,
        pytest.param(
            _suspend,
            marks=pytest.mark.xfail(
                strict=True,
                reason="R15's erasure removes the signed statement the submission must be sent again with to "
                "learn J-LIS's id (the protocol has no lookup by our reference), so the revocation cannot "
                "be sent: the relay needs such a lookup, or the erasure must wait for the submission's answer",
            ),
        ),
    ],
    ids=["withdrawn", "revoked", "suspended"],
)
def test_r09_r15_a_consent_ended_while_its_submission_waits_to_be_sent_again_is_ended_at_jlis_too(
    record, clerk, supervisor, second_supervisor, issue_card_for, jlis_simulator, settings, end
):
    """Order: the relay sends the submission; J-LIS takes it but its answer is lost (a timeout),
    so the row waits to be sent again (with the same key); then a supervisor ends the consent
    (withdrawn, revoked, or the service stopped, R9, R15); then the relay runs. J-LIS holds the
    consent: it must be ended there too, never left in force for J-LIS to reflect and to serve as
    the holder's consent (R8) while we think it was never sent."""
    consent = register_unsent(record, clerk, issue_card_for(record), ["address"])
    submission = OutboxMessage.objects.get(consent=consent, kind=OutboxKind.SUBMIT_CONSENT)
    jlis_simulator.fault(
        "delay", target="submit", count=settings.JLIS_RETRIES + 1, delay=settings.JLIS_TIMEOUT_SECONDS + 1
    )
    from jlis_gateway.services.relay import outbox_send
    from tests.jlis_fixtures import wait_until

    assert outbox_send(message_id=submission.pk).status == "retry"  # every try timed out
    # Every try reached J-LIS and is answered there (the first took it, the others replayed it):
    # none still sleeping in the simulator can land in the next test's J-LIS after its reset.
    tries = settings.JLIS_RETRIES + 1
    answered = lambda: [(r["received"], r["replays"]) for r in jlis_simulator.requests()] == [(tries, tries - 1)]  # noqa: E731
    wait_until(answered, 30, "J-LIS to answer every try of the submission")
    assert jlis_simulator.state()["consents"] == {"pending": 1}
    jlis_simulator.faults_clear()

    end(consent, supervisor, second_supervisor)
    OutboxMessage.objects.filter(status=OutboxStatus.PENDING).update(next_attempt_at=submission.created_at)
    for _ in range(3):
        outbox_sweep()
    assert jlis_simulator.reflect()["consents"] == []  # nothing in force at J-LIS to reflect
    assert jlis_simulator.state()["consents"].get("pending", 0) == 0
