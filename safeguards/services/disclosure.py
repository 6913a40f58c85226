"""Disclosure requests (R16, terms 11): registered, identity checked, fee paid, answered, closed.

Each step is a supervisor's, audited, and only from the step before it: a conditional UPDATE on
the current status takes the step, so two clicks or two supervisors cannot take it twice.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from driver_records.selectors import record_or_none
from onestop.audit import AuditEntry, audit_log
from onestop.audit_actions import AuditAction
from onestop.models import User

from ..errors import SafeguardRefused
from ..models import AnswerMethod, DisclosureRequest, DisclosureStatus, IdentityDocument, Requester
from ._common import clean_text, new_reference, require_supervisor, require_supervisor_for

NAME_MAX = 100
IDENTITY_NOTE_MAX = 200
RECEIPT_MAX = 40


def _entry(request: DisclosureRequest, actor: User, old: dict[str, Any], new: dict[str, Any]) -> AuditEntry:
    return AuditEntry(
        action=AuditAction.DISCLOSURE_ADVANCE if old else AuditAction.DISCLOSURE_REGISTER,
        subject_type="disclosure_request",
        subject_id=str(request.pk),
        actor=actor,
        record_number=request.record.number,
        old_values=old,
        new_values=new,
    )


def disclosure_register(
    *, record_id: int, actor: User, requester_kind: str, requester_name: str, received_on: date
) -> DisclosureRequest:
    """Register a request received on a form. The requester's name stays here, not in the audit trail."""
    require_supervisor(actor)
    if requester_kind not in Requester.values:
        raise ValueError(f"unknown requester kind {requester_kind!r}")
    requester_name = clean_text(
        requester_name, field=_("Requester's name (as written on the form)"), required=True, max_length=NAME_MAX
    )
    with transaction.atomic(durable=True):
        record = record_or_none(pk=record_id)
        if record is None:
            raise SafeguardRefused("not_found")
        require_supervisor_for(actor, record)
        assert actor.office is not None  # require_supervisor_for checked it
        now = timezone.now()
        request = DisclosureRequest.objects.create(
            record=record,
            reference=new_reference("D", now),
            requester_kind=requester_kind,
            requester_name=requester_name,
            received_on=received_on,
            office=actor.office,
            registered_by=actor,
            registered_at=now,
        )
        audit_log(
            _entry(
                request,
                actor,
                {},
                {
                    "status": request.status,
                    "reference": request.reference,
                    "requester_kind": requester_kind,
                    "received_on": received_on,
                },
            )
        )
    return request


def _advance(
    *,
    request_id: int,
    actor: User,
    from_status: DisclosureStatus,
    to_status: DisclosureStatus,
    fields: dict[str, Any],
    audited: dict[str, Any],
) -> DisclosureRequest:
    require_supervisor(actor)
    with transaction.atomic(durable=True):
        request = DisclosureRequest.objects.select_related("record").filter(pk=request_id).first()
        if request is None:
            raise SafeguardRefused("not_found")
        require_supervisor_for(actor, request.record)
        taken = DisclosureRequest.objects.filter(pk=request.pk, status=from_status).update(status=to_status, **fields)
        if taken != 1:
            raise SafeguardRefused("not_in_order")
        audit_log(_entry(request, actor, {"status": from_status}, {"status": to_status, **audited}))
        request.refresh_from_db()
    return request


def disclosure_identity_check(*, request_id: int, actor: User, document: str, note: str = "") -> DisclosureRequest:
    """The requester's identity was checked, by this supervisor, with this document."""
    if document not in IdentityDocument.values:
        raise ValueError(f"unknown identity document {document!r}")
    note = clean_text(note, field=_("How it was checked (optional)"), required=False, max_length=IDENTITY_NOTE_MAX)
    return _advance(
        request_id=request_id,
        actor=actor,
        from_status=DisclosureStatus.RECEIVED,
        to_status=DisclosureStatus.IDENTITY_CHECKED,
        fields={
            "identity_document": document,
            "identity_note": note,
            "identity_checked_by": actor,
            "identity_checked_at": timezone.now(),
        },
        audited={"identity_document": document},
    )


def disclosure_fee_record(
    *, request_id: int, actor: User, amount: int, receipt_number: str, paid_on: date
) -> DisclosureRequest:
    if amount <= 0:
        raise ValueError("a fee is a positive number of yen")
    receipt_number = clean_text(receipt_number, field=_("Receipt number"), required=True, max_length=RECEIPT_MAX)
    return _advance(
        request_id=request_id,
        actor=actor,
        from_status=DisclosureStatus.IDENTITY_CHECKED,
        to_status=DisclosureStatus.FEE_PAID,
        fields={
            "fee_amount": amount,
            "fee_receipt_number": receipt_number,
            "fee_paid_on": paid_on,
            "fee_recorded_by": actor,
            "fee_recorded_at": timezone.now(),
        },
        audited={"fee_amount": amount, "fee_receipt_number": receipt_number, "fee_paid_on": paid_on},
    )


def disclosure_answer(*, request_id: int, actor: User, method: str, answered_on: date) -> DisclosureRequest:
    """The report was handed over or sent."""
    if method not in AnswerMethod.values:
        raise ValueError(f"unknown answer method {method!r}")
    return _advance(
        request_id=request_id,
        actor=actor,
        from_status=DisclosureStatus.FEE_PAID,
        to_status=DisclosureStatus.ANSWERED,
        fields={
            "answer_method": method,
            "answered_on": answered_on,
            "answered_by": actor,
            "answered_at": timezone.now(),
        },
        audited={"answer_method": method, "answered_on": answered_on},
    )


def disclosure_close(*, request_id: int, actor: User) -> DisclosureRequest:
    return _advance(
        request_id=request_id,
        actor=actor,
        from_status=DisclosureStatus.ANSWERED,
        to_status=DisclosureStatus.CLOSED,
        fields={"closed_by": actor, "closed_at": timezone.now()},
        audited={},
    )
