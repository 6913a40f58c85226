"""Writing what a batch decided: one statement per kind of write, whatever the batch size."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from driver_records.models import ChangeSource, DriverRecord, RecordChange
from driver_records.normalise import name_search_key
from jlis_gateway import inbox
from onestop.audit import (
    AuditEntry,
    audit_batch_make,
    audit_batch_write,
    audit_chain_lock,
    audit_log_bulk,
    mask_personal,
)
from onestop.audit_actions import AuditAction
from onestop.sql_params import json_rows

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
    """Store the final in-memory state of each changed record (PostgreSQL: one UPDATE of JSON rows)."""
    if not records:
        return
    if connection.vendor == "postgresql":
        rows = (
            (r.id, r.name, name_search_key(r.name), r.address, r.birth_date, r.cert_serial, r.cert_not_after,
             r.jlis_seq, bumps[r.id], r.cert_seq)
            for r in records
        )  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE driver_records_driverrecord AS r
                SET name = e->>1, name_key = e->>2, address = e->>3, birth_date = (e->>4)::date,
                    cert_serial = e->>5, cert_not_after = (e->>6)::timestamptz, jlis_seq = (e->>7)::bigint,
                    version = r.version + (e->>8)::int, cert_seq = (e->>9)::bigint, updated_at = %s
                FROM json_array_elements(%s::json) AS e
                WHERE r.id = (e->>0)::bigint
                """,
                [now, json_rows(rows)],
            )
        return
    objects = []
    for r in records:
        obj = DriverRecord(
            pk=r.id, name=r.name, name_key=name_search_key(r.name), address=r.address, birth_date=r.birth_date,
            cert_serial=r.cert_serial, cert_not_after=r.cert_not_after, jlis_seq=r.jlis_seq, cert_seq=r.cert_seq,
            version=r.version + bumps[r.id], updated_at=now,
        )  # fmt: skip
        objects.append(obj)
    DriverRecord.objects.bulk_update(
        objects,
        ["name", "name_key", "address", "birth_date", "cert_serial", "cert_not_after", "jlis_seq", "cert_seq",
         "version", "updated_at"],
    )  # fmt: skip


HistoryRow = tuple[int, str, str, str, str, datetime]


def history_and_audit_rows(applied: Iterable[Applied], now: datetime) -> tuple[list[HistoryRow], list[AuditEntry]]:
    """A history row per changed field and an audit entry per applied event (no database work)."""
    history: list[HistoryRow] = []
    audit: list[AuditEntry] = []
    for a in applied:
        for field, new in a.new.items():
            history.append((a.record.id, field, _text(a.old[field]), _text(new), a.event_id, now))
        audit.append(
            AuditEntry(
                action=AuditAction.RECORD_APPLY_JLIS,
                subject_type="driver_record",
                subject_id=str(a.record.id),
                actor_label="jlis",
                record_number=a.record.number,
                serial=a.new.get("cert_serial", a.record.cert_serial),
                old_values={f: mask_personal(f, _text(v)) for f, v in a.old.items()},
                new_values={f: mask_personal(f, _text(v)) for f, v in a.new.items()} | {"event_id": a.event_id},
            )
        )
    return history, audit


def history_and_audit_write(applied: Iterable[Applied], now: datetime) -> None:
    history, audit = history_and_audit_rows(applied, now)
    _history_write(history)
    audit_log_bulk(audit)


def segment_write(
    records: Sequence[RecordState],
    bumps: dict[int, int],
    applied: list[Applied],
    outcomes: dict[str, list[int]],
    decisions: dict[int, Decision],
    now: datetime,
) -> None:
    """Everything a batch's run of "latest information" events decided, written.

    On PostgreSQL the audit chain's head is locked first (the one answer the rest waits for);
    the two UPDATEs then go in a pipeline, so the server runs them while Python makes the history
    rows and the chained audit rows, which follow by COPY (cheapest for the server, but COPY
    cannot join a pipeline). An error anywhere surfaces here and rolls the batch back.
    """
    if connection.vendor != "postgresql":
        records_write(records, bumps, now)
        history_and_audit_write(applied, now)
        events_mark(outcomes, decisions, now)
        return
    head = audit_chain_lock() if applied else None
    with connection.wrap_database_errors, connection.connection.pipeline():
        records_write(records, bumps, now)
        events_mark(outcomes, decisions, now)
        history, entries = history_and_audit_rows(applied, now)
        audit = audit_batch_make(entries, head) if head else None
    _history_write(history)
    if audit:
        audit_batch_write(audit)


def _history_write(rows: list[HistoryRow]) -> None:
    if not rows:
        return
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
    """Event statuses; items nobody consented to are erased (R2): through the gateway's inbox."""
    inbox.events_mark(
        outcomes=outcomes, dropped={pk: decision.dropped_items for pk, decision in decisions.items()}, at=now
    )


def commit_without_flush_wait() -> None:
    """This transaction's COMMIT returns before its WAL reaches the disk (PostgreSQL's
    asynchronous commit; never torn, at worst the last moments are lost in a server crash).

    Only for batches of "latest information" events: all they write is derived from events
    the poller stored with a durable commit, nothing leaves the system on the strength of it,
    and a lost batch leaves its events pending, to be applied again. Any later durable commit
    (a clerk's, the poller's) flushes this one too, so none can depend on a batch it outlives.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def now() -> datetime:
    return timezone.now()
