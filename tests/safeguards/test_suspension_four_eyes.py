"""R15, four eyes: one supervisor proposes suspending a holder, a different supervisor decides.
Nobody else can, and nothing changes for the holder until the second supervisor confirms."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from consents.models import ConsentStatus
from onestop.models import AuditEvent
from safeguards.errors import SafeguardRefused
from safeguards.models import SuspensionRequest, SuspensionStatus
from safeguards.services import suspension_confirm, suspension_propose, suspension_reject
from tests.consents.conftest import osaka_supervisor  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

MY_NUMBER = "1234 5678 9018"  # a valid My Number check digit (DOMAIN.md's example)


def propose(record, actor, **overrides):
    values = {"reason_code": "not_the_holder", "grounds": "suspected", "note": "本人以外が窓口で利用を試みた"}
    return suspension_propose(record_id=record.pk, actor=actor, **{**values, **overrides})


def refused(code: str):
    return pytest.raises(SafeguardRefused, match=rf"^{code}:")


def test_r15_a_proposal_changes_nothing_for_the_holder_until_confirmed(suspect, supervisor):
    proposal = propose(suspect.record, supervisor)
    suspect.consent.refresh_from_db()
    assert proposal.status == SuspensionStatus.PROPOSED
    assert suspect.consent.status == ConsentStatus.ACTIVE and bytes(suspect.consent.certificate)
    audit = AuditEvent.objects.get(action="suspension.propose")
    assert (audit.record_number, audit.actor, audit.new_values["reason_code"]) == (
        suspect.record.number,
        supervisor,
        "not_the_holder",
    )
    assert "本人以外" not in str(audit.new_values)  # the note's hash, not its words
    assert len(audit.new_values["note_sha256"]) == 64


def test_r15_the_proposer_cannot_confirm_their_own_proposal(suspect, supervisor):
    proposal = propose(suspect.record, supervisor)
    with refused("own_proposal"):
        suspension_confirm(request_id=proposal.pk, actor=supervisor)
    with refused("own_proposal"):
        suspension_reject(request_id=proposal.pk, actor=supervisor, note="取り下げ")
    proposal.refresh_from_db()
    suspect.consent.refresh_from_db()
    assert proposal.status == SuspensionStatus.PROPOSED
    assert suspect.consent.status == ConsentStatus.ACTIVE and bytes(suspect.consent.signature)


def test_r15_the_database_refuses_a_decision_by_the_proposer(suspect, supervisor):
    proposal = propose(suspect.record, supervisor)
    with pytest.raises(IntegrityError), transaction.atomic():
        SuspensionRequest.objects.filter(pk=proposal.pk).update(
            status=SuspensionStatus.CONFIRMED, decided_by=supervisor, decided_at=proposal.proposed_at
        )


def test_r15_a_clerk_can_neither_propose_nor_confirm(suspect, clerk, supervisor):
    with refused("forbidden"):
        propose(suspect.record, clerk)
    proposal = propose(suspect.record, supervisor)
    with refused("forbidden"):
        suspension_confirm(request_id=proposal.pk, actor=clerk)
    assert SuspensionRequest.objects.get().status == SuspensionStatus.PROPOSED


def test_r15_an_auditor_can_neither_propose_nor_confirm(suspect, auditor, supervisor):
    with refused("forbidden"):
        propose(suspect.record, auditor)
    proposal = propose(suspect.record, supervisor)
    with refused("forbidden"):
        suspension_confirm(request_id=proposal.pk, actor=auditor)


def test_r15_a_supervisor_of_another_prefecture_cannot_decide(suspect, supervisor, osaka_supervisor):  # noqa: F811
    proposal = propose(suspect.record, supervisor)
    with refused("wrong_prefecture"):
        suspension_confirm(request_id=proposal.pk, actor=osaka_supervisor)


def test_r15_a_second_supervisor_confirms_once(suspect, supervisor, second_supervisor):
    proposal = propose(suspect.record, supervisor)
    confirmed = suspension_confirm(request_id=proposal.pk, actor=second_supervisor)
    assert (confirmed.status, confirmed.decided_by, confirmed.proposed_by) == (
        SuspensionStatus.CONFIRMED,
        second_supervisor,
        supervisor,
    )
    with refused("already_decided"):
        suspension_confirm(request_id=proposal.pk, actor=second_supervisor)
    with refused("already_suspended"):
        propose(suspect.record, second_supervisor)


def test_r15_a_rejection_keeps_everything_and_says_why(suspect, supervisor, second_supervisor):
    proposal = propose(suspect.record, supervisor)
    with refused("note_required"):
        suspension_reject(request_id=proposal.pk, actor=second_supervisor, note="  ")
    rejected = suspension_reject(request_id=proposal.pk, actor=second_supervisor, note="事実が確認できない")
    suspect.consent.refresh_from_db()
    assert (rejected.status, rejected.decision_note) == (SuspensionStatus.REJECTED, "事実が確認できない")
    assert suspect.consent.status == ConsentStatus.ACTIVE and bytes(suspect.consent.certificate)
    assert AuditEvent.objects.filter(action="suspension.reject", actor=second_supervisor).count() == 1
    assert not AuditEvent.objects.filter(action="holder_data.erase").exists()
    propose(suspect.record, second_supervisor)  # a new proposal is possible after a rejection


def test_r15_one_open_proposal_per_holder(suspect, supervisor, second_supervisor):
    propose(suspect.record, supervisor)
    with refused("proposal_open"):
        propose(suspect.record, second_supervisor)


def test_r14_a_my_number_in_the_note_is_refused(suspect, supervisor, second_supervisor):
    with refused("contains_my_number"):
        propose(suspect.record, supervisor, note=f"申告者の番号 {MY_NUMBER}")
    proposal = propose(suspect.record, supervisor)
    with refused("contains_my_number"):
        suspension_confirm(request_id=proposal.pk, actor=second_supervisor, note=MY_NUMBER)
    assert not SuspensionRequest.objects.filter(note__contains="9018").exists()
