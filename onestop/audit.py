"""Writing to the audit trail, always inside the transaction of the change it records."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from django.db import transaction
from django.utils import timezone

from .models import AuditChainHead, AuditEvent, Office, User
from .request_context import request_id_var

GENESIS_HASH = "0" * 64
# Fields whose values the audit trail keeps masked: the change history holds them for the
# roles that need them, and the trail proves that they changed, when and by whom.
PERSONAL_FIELDS = frozenset({"name", "address", "birth_date", "sex", "certificate", "statement"})


def mask_personal(field_name: str, value: Any) -> Any:
    return "***" if field_name in PERSONAL_FIELDS and value not in ("", None) else value


@dataclass(frozen=True)
class AuditEntry:
    action: str
    subject_type: str
    subject_id: str
    actor: User | None = None
    actor_label: str = ""
    office: Office | None = None
    record_number: str = ""
    serial: str = ""
    old_values: Mapping[str, Any] = field(default_factory=dict)
    new_values: Mapping[str, Any] = field(default_factory=dict)


def canonical_form(event: AuditEvent) -> bytes:
    """The bytes a row's hash covers: sorted-key JSON, UTC times, no whitespace."""
    body = {
        "seq": event.seq,
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "office_id": event.office_id,
        "action": event.action,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "record_number": event.record_number,
        "serial": event.serial,
        "old_values": event.old_values,
        "new_values": event.new_values,
        "request_id": event.request_id,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(canonical_form(event)).hexdigest()


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    # Round-trip through JSON so the hash covers exactly what the database will return.
    return json.loads(json.dumps(dict(values), default=str, ensure_ascii=False))


def audit_log_many(entries: Iterable[AuditEntry]) -> list[AuditEvent]:
    """Append entries to the chain. Must run inside the caller's transaction."""
    entries = list(entries)
    if not entries:
        return []
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit events must be written inside the transaction of their change")
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
    now = timezone.now()
    request_id = request_id_var.get()
    rows: list[AuditEvent] = []
    prev_hash, seq = head.last_hash, head.last_seq
    for entry in entries:
        seq += 1
        row = AuditEvent(
            seq=seq,
            occurred_at=now,
            actor=entry.actor,
            actor_label=entry.actor_label or (entry.actor.get_username() if entry.actor else "system"),
            office=entry.office if entry.office is not None else getattr(entry.actor, "office", None),
            action=entry.action,
            subject_type=entry.subject_type,
            subject_id=str(entry.subject_id),
            record_number=entry.record_number,
            serial=entry.serial,
            old_values=_jsonable(entry.old_values),
            new_values=_jsonable(entry.new_values),
            request_id=request_id,
            prev_hash=prev_hash,
        )
        row.row_hash = compute_hash(row)
        prev_hash = row.row_hash
        rows.append(row)
    AuditEvent.objects.bulk_create(rows)
    AuditChainHead.objects.filter(pk=head.pk).update(last_seq=seq, last_hash=prev_hash)
    return rows


def audit_log(entry: AuditEntry) -> AuditEvent:
    return audit_log_many([entry])[0]


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def audit_chain_verify(batch_size: int = 5000) -> ChainBreak | None:
    """The first row whose hash or link does not hold, or None when the chain is whole."""
    prev_hash, expected_seq = GENESIS_HASH, 1
    for row in AuditEvent.objects.order_by("seq").iterator(chunk_size=batch_size):
        if row.seq != expected_seq:
            return ChainBreak(expected_seq, "missing row")
        if row.prev_hash != prev_hash:
            return ChainBreak(row.seq, "link to the previous row does not match")
        if compute_hash(row) != row.row_hash:
            return ChainBreak(row.seq, "content does not match its hash")
        prev_hash, expected_seq = row.row_hash, expected_seq + 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head and head.last_seq != expected_seq - 1:
        return ChainBreak(expected_seq, "rows after this one are missing")
    return None
