"""Suspending a holder for a prohibited act (R15, terms 6-7), four eyes: one supervisor proposes,
a different one confirms or rejects. Confirming stops the service for the holder and erases what
was collected from them, in one transaction with its audit events."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consents.models import Consent, ConsentStatus
from driver_records.models import DriverRecord
from driver_records.services import record_service_stop
from jlis_gateway.models import JlisEvent, OutboxKind, OutboxMessage, OutboxStatus
from jlis_gateway.outbox import outbox_enqueue
from onestop.audit import AuditEntry, audit_log, audit_log_many
from onestop.models import User

from ..errors import SafeguardRefused
from ..models import Grounds, ProhibitedAct, SuspensionRequest, SuspensionStatus
from ..selectors import HolderKeys, holder_events, holder_keys
from ._common import clean_text, require_supervisor, require_supervisor_for, text_sha256
from .erasure import holder_data_erase

SUSPENDABLE = (ConsentStatus.PENDING, ConsentStatus.ACTIVE)
NOT_SENT = "not sent: the service was stopped for this holder (R15)"


def _audit(action: str, request: SuspensionRequest, actor: User, old: dict, new: dict) -> AuditEntry:
    return AuditEntry(
        action=action,
        subject_type="suspension_request",
        subject_id=str(request.pk),
        actor=actor,
        record_number=request.record.number,
        old_values=old,
        new_values=new,
    )


def suspension_propose(*, record_id: int, actor: User, reason_code: str, grounds: str, note: str) -> SuspensionRequest:
    """A supervisor proposes stopping the service for a holder; nothing changes until another confirms."""
    require_supervisor(actor)
    if reason_code not in ProhibitedAct.values or grounds not in Grounds.values:
        raise ValueError("unknown reason code or grounds")
    note = clean_text(note, field=_("Note: what was done, and how it came to light"), required=True)
    with transaction.atomic(durable=True):
        record = DriverRecord.objects.select_for_update().filter(pk=record_id).first()
        if record is None:
            raise SafeguardRefused("not_found")
        require_supervisor_for(actor, record)
        if record.service_stopped:  # R15: final (the record is locked: read as of now)
            raise SafeguardRefused("already_suspended")
        if SuspensionRequest.objects.filter(record=record, status=SuspensionStatus.PROPOSED).exists():
            raise SafeguardRefused("proposal_open")
        assert actor.office is not None  # require_supervisor_for checked it
        request = SuspensionRequest.objects.create(
            record=record,
            reason_code=reason_code,
            grounds=grounds,
            note=note,
            office=actor.office,
            proposed_by=actor,
            proposed_at=timezone.now(),
        )
        audit_log(
            _audit(
                "suspension.propose",
                request,
                actor,
                {},
                {
                    "status": request.status,
                    "reason_code": reason_code,
                    "grounds": grounds,
                    "note_sha256": text_sha256(note),
                },
            )
        )
    return request


def _decidable(request_id: int, actor: User) -> SuspensionRequest:
    """The locked proposal, if this supervisor may decide it now."""
    request = SuspensionRequest.objects.select_for_update().select_related("record").filter(pk=request_id).first()
    if request is None:
        raise SafeguardRefused("not_found")
    require_supervisor_for(actor, request.record)
    if request.status != SuspensionStatus.PROPOSED:
        raise SafeguardRefused("already_decided")
    if request.proposed_by_id == actor.pk:
        raise SafeguardRefused("own_proposal")
    return request


def suspension_reject(*, request_id: int, actor: User, note: str) -> SuspensionRequest:
    """A second supervisor rejects the proposal, saying why; nothing else changes."""
    require_supervisor(actor)
    note = clean_text(note, field=_("Note (required when rejecting)"), required=True)
    with transaction.atomic(durable=True):
        request = _decidable(request_id, actor)
        request.status, request.decided_by, request.decided_at = SuspensionStatus.REJECTED, actor, timezone.now()
        request.decision_note = note
        request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        audit_log(
            _audit(
                "suspension.reject",
                request,
                actor,
                {"status": SuspensionStatus.PROPOSED},
                {"status": request.status, "note_sha256": text_sha256(note)},
            )
        )
    return request


def _lock_events(keys: HolderKeys) -> list[JlisEvent]:
    return list(holder_events(keys).select_for_update().order_by("pk"))


def suspension_confirm(*, request_id: int, actor: User, note: str = "") -> SuspensionRequest:
    """A second supervisor confirms: the holder's pending and active consents are suspended (J-LIS
    is told to revoke them through the outbox), and what was collected from them is erased.

    Locks in the applier's order, J-LIS events before the record, so the two cannot deadlock.
    """
    require_supervisor(actor)
    note = clean_text(note, field=_("Note (required when rejecting)"), required=False)
    proposal = SuspensionRequest.objects.select_related("record").filter(pk=request_id).first()
    if proposal is None:
        raise SafeguardRefused("not_found")
    with transaction.atomic(durable=True):
        keys = holder_keys(proposal.record)
        events = _lock_events(keys)
        record = DriverRecord.objects.select_for_update().get(pk=proposal.record_id)
        if (current := holder_keys(record)) != keys:  # a J-LIS event relinked the record meanwhile
            keys, events = current, _lock_events(current)
        request = _decidable(request_id, actor)
        now = timezone.now()
        suspended = _consents_suspend(record, actor)
        stopped = record_service_stop(record=record, at=now, actor=actor)  # R15: the record's own fact
        erased = holder_data_erase(record=record, events=events, at=now)
        request.status, request.decided_by, request.decided_at = SuspensionStatus.CONFIRMED, actor, now
        request.decision_note, request.erased = note, erased
        request.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "erased"])
        confirm = _audit(
            "suspension.confirm",
            request,
            actor,
            {"status": SuspensionStatus.PROPOSED},
            {
                "status": request.status,
                "reason_code": request.reason_code,
                "grounds": request.grounds,
                "proposed_by": request.proposed_by.get_username(),
                "note_sha256": text_sha256(note),
            },
        )
        erase = AuditEntry(
            action="holder_data.erase",
            subject_type="driver_record",
            subject_id=str(record.pk),
            actor=actor,
            record_number=record.number,
            new_values={"suspension_request": request.pk, **erased},
        )
        audit_log_many([confirm, *suspended, *([stopped] if stopped else []), erase])
    return request


def _consents_suspend(record: DriverRecord, actor: User) -> list[AuditEntry]:
    """Pending and active consents become suspended; unsent submissions are withdrawn, and J-LIS
    is asked to revoke what it may hold."""
    entries = []
    consents = Consent.objects.select_for_update().filter(record=record, status__in=SUSPENDABLE).order_by("pk")
    for consent in consents:
        old_status, consent.status = consent.status, ConsentStatus.SUSPENDED
        consent.save(update_fields=["status"])
        submissions = OutboxMessage.objects.filter(consent=consent, kind=OutboxKind.SUBMIT_CONSENT)
        # Claimed rows are left alone: the relay may be sending them, so J-LIS may hold the consent.
        withdrawn = submissions.filter(status=OutboxStatus.PENDING).update(
            status=OutboxStatus.FAILED, last_error=NOT_SENT
        )
        at_jlis = (
            bool(consent.jlis_consent_id)
            or submissions.filter(status__in=[OutboxStatus.SENDING, OutboxStatus.SENT]).exists()
        )
        if at_jlis:
            outbox_enqueue(kind=OutboxKind.REVOKE_CONSENT, consent=consent)
        entries.append(
            AuditEntry(
                action="consent.suspend",
                subject_type="consent",
                subject_id=str(consent.pk),
                actor=actor,
                record_number=record.number,
                serial=consent.cert_serial,
                old_values={"status": old_status},
                new_values={
                    "status": consent.status,
                    "submission_withdrawn": withdrawn,
                    "jlis_revocation_queued": at_jlis,
                },
            )
        )
    return entries
