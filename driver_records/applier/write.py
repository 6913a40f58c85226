"""Writing what a batch decided: one statement per kind of write, whatever the batch size."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from jlis_gateway.models import EventStatus, JlisEvent
from onestop.audit import AuditEntry, audit_log_many, mask_personal

from ..models import ChangeSource, DriverRecord, RecordChange
from ..normalise import name_search_key
from .decide import Decision, RecordState


@dataclass
class Applied:
    record: RecordState
    event_id: str
    old: dict[str, Any]
    new: dict[str, Any]


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def records_write(records: Sequence[RecordState], bumps: dict[int, int], now: datetime) -> None:
    """Store the final in-memory state of each changed record (PostgreSQL: one UPDATE ... FROM unnest)."""
    if not records:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE driver_records_driverrecord AS r
                SET name = v.name, name_key = v.name_key, address = v.address, birth_date = v.birth_date,
                    cert_serial = v.cert_serial, cert_not_after = v.cert_not_after, jlis_seq = v.jlis_seq,
                    version = r.version + v.bump, updated_at = %s
                FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::date[], %s::text[],
                            %s::timestamptz[], %s::bigint[], %s::int[])
                     AS v(id, name, name_key, address, birth_date, cert_serial, cert_not_after, jlis_seq, bump)
                WHERE r.id = v.id
                """,
                [
                    now,
                    [r.id for r in records],
                    [r.name for r in records],
                    [name_search_key(r.name) for r in records],
                    [r.address for r in records],
                    [r.birth_date for r in records],
                    [r.cert_serial for r in records],
                    [r.cert_not_after for r in records],
                    [r.jlis_seq for r in records],
                    [bumps[r.id] for r in records],
                ],
            )
        return
    objects = []
    for r in records:
        obj = DriverRecord(
            pk=r.id, name=r.name, name_key=name_search_key(r.name), address=r.address, birth_date=r.birth_date,
            cert_serial=r.cert_serial, cert_not_after=r.cert_not_after, jlis_seq=r.jlis_seq,
            version=r.version + bumps[r.id], updated_at=now,
        )  # fmt: skip
        objects.append(obj)
    DriverRecord.objects.bulk_update(
        objects,
        ["name", "name_key", "address", "birth_date", "cert_serial", "cert_not_after", "jlis_seq", "version",
         "updated_at"],
    )  # fmt: skip


def history_and_audit_write(applied: Iterable[Applied], now: datetime) -> None:
    """A history row per changed field and an audit event per applied event."""
    history: list[RecordChange] = []
    audit: list[AuditEntry] = []
    for a in applied:
        for field, new in a.new.items():
            history.append(
                RecordChange(
                    record_id=a.record.id, field=field, old_value=_text(a.old[field]), new_value=_text(new),
                    source=ChangeSource.JLIS, jlis_event_id=a.event_id, changed_at=now,
                )
            )  # fmt: skip
        audit.append(
            AuditEntry(
                action="record.apply_jlis",
                subject_type="driver_record",
                subject_id=str(a.record.id),
                actor_label="jlis",
                record_number=a.record.number,
                serial=a.new.get("cert_serial", a.record.cert_serial),
                old_values={f: mask_personal(f, _text(v)) for f, v in a.old.items()},
                new_values={f: mask_personal(f, _text(v)) for f, v in a.new.items()} | {"event_id": a.event_id},
            )
        )
    RecordChange.objects.bulk_create(history, batch_size=2000)
    audit_log_many(audit)


def events_mark(outcomes: dict[str, list[int]], decisions: dict[int, Decision], now: datetime) -> None:
    """Event statuses, one UPDATE per outcome; items nobody consented to are erased (R2)."""
    for reason, ids in outcomes.items():
        status = EventStatus.APPLIED if reason == "" else EventStatus.SKIPPED
        JlisEvent.objects.filter(pk__in=ids).update(status=status, reason=reason, processed_at=now)
    scrub: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for event_pk, decision in decisions.items():
        if decision.dropped_items:
            scrub[decision.dropped_items].append(event_pk)
    for items, ids in scrub.items():
        for event in JlisEvent.objects.filter(pk__in=ids).only("payload"):
            event.payload = {k: v for k, v in event.payload.items() if k not in items}
            event.save(update_fields=["payload"])


def now() -> datetime:
    return timezone.now()
