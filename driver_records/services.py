"""Writes to driver records and their history. Each public service is one transaction; those
named for another app's step (a suspension, a consent's link) join the caller's transaction
(`savepoint=False`) and never start a durable one."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from onestop.audit import AuditEntry, audit_log, mask_personal
from onestop.audit_actions import AuditAction
from onestop.models import User
from onestop.validators import contains_my_number, my_number_refusal

from .access import HolderAccess, holder_require
from .models import CARD_ONLY_STATUSES, ChangeSource, DriverRecord, RecordChange, address_begins_with_prefecture
from .normalise import name_search_key

# The prefecture is not among them: the database derives it from the address (R4).
EDITABLE_FIELDS = ("name", "birth_date", "address", "holding_status")
CHANGE_REASON_MAX = 500


class ChangeReasonError(ValueError):
    """The reason given for a change is missing, too long, or holds a My Number (R14)."""


class StaleRecordError(Exception):
    """The record changed since the editor loaded it; their edit was not saved."""

    def __init__(self) -> None:
        super().__init__(
            _("Someone else changed this record after you opened it. Reload it and apply your change again.")
        )


def _as_text(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def record_update(
    *,
    record_id: int,
    expected_version: int,
    changes: dict[str, Any],
    actor: User | None,
    source: str = ChangeSource.COUNTER,
    reason: str = "",
) -> DriverRecord:
    """Change fields of a record if nobody changed it since `expected_version` was read.

    A stale edit raises StaleRecordError instead of overwriting the newer data. An address must
    begin with its prefecture (ValidationError): the record's prefecture follows it (R4). The
    `reason`, when given, is kept with each changed field's history row and in the audit trail.
    """
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if "address" in changes:
        address_begins_with_prefecture(changes["address"])  # R4: the prefecture is read from it
    with transaction.atomic(durable=True):
        record = DriverRecord.objects.select_for_update().get(pk=record_id)
        if actor is not None:  # staff change only the holders of their prefecture (read under the lock)
            holder_require(actor, record, HolderAccess.WRITE)
        if record.version != expected_version:
            raise StaleRecordError()
        now = timezone.now()
        changed = {f: v for f, v in changes.items() if getattr(record, f) != v}
        if not changed:
            return record
        history = [
            RecordChange(
                record=record,
                field=f,
                old_value=_as_text(getattr(record, f)),
                new_value=_as_text(v),
                source=source,
                actor=actor,
                changed_at=now,
                reason=reason,
            )
            for f, v in changed.items()
        ]
        update: dict[str, Any] = dict(changed)
        if "name" in changed:
            update["name_key"] = name_search_key(changed["name"])
        if "holding_status" in changed:
            update["holding_status_changed_at"] = now
            if record.holds_card_only and changed["holding_status"] not in CARD_ONLY_STATUSES:
                # R12: automatic updates stop at once, in this transaction, until a new registration.
                # The database holds it for every other writer too, and moves the stop past any
                # consent stamped later by a clock ahead of ours (feed_stop_guard.py).
                update["feed_stopped_at"] = now
        # The version test in the WHERE clause is what refuses a lost update.
        updated = DriverRecord.objects.filter(pk=record.pk, version=expected_version).update(
            **update, version=F("version") + 1, updated_at=now
        )
        if updated != 1:
            raise StaleRecordError()
        RecordChange.objects.bulk_create(history)
        audit_log(
            AuditEntry(
                action=AuditAction.RECORD_UPDATE,
                subject_type="driver_record",
                subject_id=str(record.pk),
                actor=actor,
                record_number=record.number,
                old_values={h.field: mask_personal(h.field, h.old_value) for h in history},
                new_values={
                    **{h.field: mask_personal(h.field, h.new_value) for h in history},
                    **({"reason": reason} if reason else {}),
                },
            )
        )
        record.refresh_from_db()
        return record


def change_reason_clean(reason: str, *, field: str) -> str:
    """A staff member's reason for a change: required, at most CHANGE_REASON_MAX characters once
    its spaces are folded, and never a My Number (R14: checked here too, whatever the form did)."""
    reason = " ".join(reason.split())
    if not reason:
        raise ChangeReasonError(_("Give the reason for the change."))
    if len(reason) > CHANGE_REASON_MAX:
        raise ChangeReasonError(_("The reason is too long (at most %(max)d characters).") % {"max": CHANGE_REASON_MAX})
    if contains_my_number(reason):
        raise ChangeReasonError(my_number_refusal(field))
    return reason


def record_holding_status_change(
    *, record_id: int, expected_version: int, holding_status: str, reason: str, actor: User
) -> DriverRecord:
    """A clerk records what the holder now carries, with the reason (R12: leaving the card-only
    statuses stops the feed at once; the reason is kept in the history and the audit trail)."""
    reason = change_reason_clean(reason, field=_("Reason for the change"))
    return record_update(
        record_id=record_id,
        expected_version=expected_version,
        changes={"holding_status": holding_status},
        actor=actor,
        reason=reason,
    )


def record_service_stop(*, record: DriverRecord, at: datetime, actor: User | None) -> AuditEntry | None:
    """R15: the service is stopped for the holder from `at` (a confirmed suspension). Set once,
    never cleared: a record stopped already keeps its first stop. `record` is locked by the
    caller; returns the audit entry, which the caller writes with the suspension's own (one
    chain append), or None when the record was stopped already."""
    with transaction.atomic(savepoint=False):
        if record.service_stopped_at is not None:
            return None
        DriverRecord.objects.filter(pk=record.pk, service_stopped_at__isnull=True).update(service_stopped_at=at)
        record.service_stopped_at = at
        return AuditEntry(
            action=AuditAction.RECORD_SERVICE_STOP,
            subject_type="driver_record",
            subject_id=str(record.pk),
            actor=actor,
            record_number=record.number,
            new_values={"service_stopped_at": at},
        )


def record_changes_erase(*, record: DriverRecord, fields: Iterable[str], jlis_values: set[str]) -> int:
    """R15: the history of these fields as J-LIS gave them is erased: the values of every change
    J-LIS made, and any value J-LIS gave (`jlis_values`, or one of its changes) that a counter
    change later replaced. Inside the caller's transaction; how many rows changed."""
    with transaction.atomic(savepoint=False):
        rows = list(RecordChange.objects.filter(record=record, field__in=list(fields)))
        jlis_values = jlis_values | {r.new_value for r in rows if r.source == ChangeSource.JLIS}
        changed = []
        for row in rows:
            old, new = row.old_value, row.new_value
            if row.source == ChangeSource.JLIS:
                row.old_value = row.new_value = ""
            else:
                row.old_value = "" if row.old_value in jlis_values else row.old_value
                row.new_value = "" if row.new_value in jlis_values else row.new_value
            if (row.old_value, row.new_value) != (old, new):
                changed.append(row)
        RecordChange.objects.bulk_update(changed, ["old_value", "new_value"])
        return len(changed)


def record_certificate_link(
    *,
    record: DriverRecord,
    serial: str,
    seq: int,
    issuer_key_id: str,
    not_after: datetime | None,
    event_id: str,
    at: datetime,
) -> None:
    """R10/R13: J-LIS named `serial` (at holder sequence `seq`) for the holder: the record is
    linked to it, with J-LIS's event in its history and the audit trail. The caller decided that
    the link moves (consents: link_moves) and holds the record locked; inside its transaction.
    `record` follows what was written."""
    with transaction.atomic(savepoint=False):
        wanted = {"cert_serial": serial, "cert_issuer_key_id": issuer_key_id, "cert_not_after": not_after}
        changed = {f: v for f, v in wanted.items() if getattr(record, f) != v}
        DriverRecord.objects.filter(pk=record.pk).update(
            **changed, cert_seq=seq, version=F("version") + (1 if changed else 0), updated_at=at
        )
        record.cert_seq = seq
        if not changed:
            return
        old = {f: getattr(record, f) for f in changed}
        RecordChange.objects.bulk_create(
            RecordChange(
                record=record,
                field=f,
                old_value="" if old[f] is None else str(old[f]),
                new_value="" if v is None else str(v),
                source=ChangeSource.JLIS,
                jlis_event_id=event_id,
                changed_at=at,
            )
            for f, v in changed.items()
        )
        audit_log(
            AuditEntry(
                action=AuditAction.RECORD_LINK_CERTIFICATE,
                subject_type="driver_record",
                subject_id=str(record.pk),
                actor_label="jlis",
                record_number=record.number,
                serial=serial,
                old_values=old,
                new_values=changed,
            )
        )
        for f, v in changed.items():
            setattr(record, f, v)


def records_seed(*, records: Iterable[DriverRecord]) -> int:
    """Demo data (`seed_demo`): these records go into an empty register only, so seeding again
    adds none. Inside the caller's transaction; how many were stored."""
    with transaction.atomic(savepoint=False):
        if DriverRecord.objects.exists():
            return 0
        return len(DriverRecord.objects.bulk_create(records))
