"""Suspending a holder for a prohibited act (R15, terms 6-7), four eyes: one supervisor proposes,
a different one confirms or rejects. Confirming stops the service for the holder and erases what
was collected from them, in one transaction with its audit events."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consents.services import consents_suspend
from driver_records.selectors import record_locked
from driver_records.services import record_service_stop
from jlis_gateway.models import JlisEvent
from onestop.audit import AuditEntry, audit_log, audit_log_many
from onestop.audit_actions import AuditAction
from onestop.models import User

from ..errors import SafeguardRefused
from ..models import Grounds, ProhibitedAct, SuspensionRequest, SuspensionStatus
from ..selectors import HolderKeys, holder_events, holder_keys
from ._common import clean_text, require_supervisor, require_supervisor_for, text_sha256
from .erasure import holder_data_erase


def _audit(action: AuditAction, request: SuspensionRequest, actor: User, old: dict, new: dict) -> AuditEntry:
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
        record = record_locked(record_id)
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
                AuditAction.SUSPENSION_PROPOSE,
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
                AuditAction.SUSPENSION_REJECT,
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
        record = record_locked(proposal.record_id)
        assert record is not None  # a suspension's record is never deleted (PROTECT)
        if (current := holder_keys(record)) != keys:  # a J-LIS event relinked the record meanwhile
            keys, events = current, _lock_events(current)
        request = _decidable(request_id, actor)
        now = timezone.now()
        suspended = consents_suspend(record=record, actor=actor)
        stopped = record_service_stop(record=record, at=now, actor=actor)  # R15: the record's own fact
        erased = holder_data_erase(record=record, events=events, at=now)
        request.status, request.decided_by, request.decided_at = SuspensionStatus.CONFIRMED, actor, now
        request.decision_note, request.erased = note, erased
        request.save(update_fields=["status", "decided_by", "decided_at", "decision_note", "erased"])
        confirm = _audit(
            AuditAction.SUSPENSION_CONFIRM,
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
            action=AuditAction.HOLDER_DATA_ERASE,
            subject_type="driver_record",
            subject_id=str(record.pk),
            actor=actor,
            record_number=record.number,
            new_values={"suspension_request": request.pk, **erased},
        )
        audit_log_many([confirm, *suspended, *([stopped] if stopped else []), erase])
    return request
