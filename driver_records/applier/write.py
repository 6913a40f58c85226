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
from onestop.audit import AuditEntry, audit_log_bulk, mask_personal

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
    """A history row per changed field and an audit event per applied event (PostgreSQL: COPY)."""
    history: list[tuple[int, str, str, str, str, datetime]] = []
    audit: list[AuditEntry] = []
    for a in applied:
        for field, new in a.new.items():
            history.append((a.record.id, field, _text(a.old[field]), _text(new), a.event_id, now))
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
    _history_write(history)
    audit_log_bulk(audit)


def _history_write(rows: list[tuple[int, str, str, str, str, datetime]]) -> None:
    if connection.vendor == "postgresql":
        with (
            connection.wrap_database_errors,
            connection.cursor() as cursor,
            cursor.cursor.copy(
                "COPY driver_records_recordchange (record_id, field, old_value, new_value, jlis_event_id, changed_at,"
                " source) FROM STDIN"
            ) as copy,
        ):
            for row in rows:
                copy.write_row((*row, ChangeSource.JLIS.value))
        return
    RecordChange.objects.bulk_create(
        [
            RecordChange(record_id=record_id, field=field, old_value=old, new_value=new, source=ChangeSource.JLIS,
                         jlis_event_id=event_id, changed_at=changed_at)
            for record_id, field, old, new, event_id, changed_at in rows
        ],
        batch_size=2000,
    )  # fmt: skip


def events_mark(outcomes: dict[str, list[int]], decisions: dict[int, Decision], now: datetime) -> None:
    """Event statuses; items nobody consented to are erased (R2). PostgreSQL: one UPDATE in all,
    so each event row is written once; elsewhere one UPDATE per outcome, then the erasures."""
    if connection.vendor == "postgresql":
        ids, reasons, dropped = [], [], []
        for reason, pks in outcomes.items():
            for pk in pks:
                ids.append(pk)
                reasons.append(reason)
                decision = decisions.get(pk)
                dropped.append(list(decision.dropped_items) if decision else [])
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE jlis_gateway_jlisevent AS e
                SET status = CASE WHEN v.reason = '' THEN %s ELSE %s END, reason = v.reason, processed_at = %s,
                    payload = CASE WHEN v.dropped = '' THEN e.payload
                                   ELSE e.payload - string_to_array(v.dropped, ',') END
                FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS v(id, reason, dropped)
                WHERE e.id = v.id
                """,
                # the dropped items (name, address, birth_date) as "a,b": arrays of arrays must be even
                [EventStatus.APPLIED, EventStatus.SKIPPED, now, ids, reasons, [",".join(d) for d in dropped]],
            )
        return
    for reason, pks in outcomes.items():
        status = EventStatus.APPLIED if reason == "" else EventStatus.SKIPPED
        JlisEvent.objects.filter(pk__in=pks).update(status=status, reason=reason, processed_at=now)
    scrub: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for event_pk, decision in decisions.items():
        if decision.dropped_items:
            scrub[decision.dropped_items].append(event_pk)
    for items, pks in scrub.items():
        for event in JlisEvent.objects.filter(pk__in=pks).only("payload"):
            event.payload = {k: v for k, v in event.payload.items() if k not in items}
            event.save(update_fields=["payload"])


def now() -> datetime:
    return timezone.now()
