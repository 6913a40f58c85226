"""Writing what a batch decided: one statement per kind of write, whatever the batch size."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from driver_records.bulk import JlisChangeRow, record_changes_from_jlis, records_update_batch
from jlis_gateway import inbox
from onestop.audit import (
    AuditEntry,
    audit_batch_make,
    audit_batch_write,
    audit_log_bulk,
    mask_personal,
)
from onestop.audit_actions import AuditAction

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


def history_and_audit_rows(applied: Iterable[Applied], now: datetime) -> tuple[list[JlisChangeRow], list[AuditEntry]]:
    """A history row per changed field and an audit entry per applied event (no database work)."""
    history: list[JlisChangeRow] = []
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
    record_changes_from_jlis(history)
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

    On PostgreSQL the two UPDATEs (the records' through driver_records.bulk, the events' through
    the gateway's inbox, each app writing its own table) go in a pipeline, so the server runs them
    while Python makes the history rows and the audit rows, which follow by COPY (cheapest for the
    server, but COPY cannot join a pipeline); the chainer links the audit rows after the commit, so
    no lock on the chain is held here. An error anywhere surfaces here and rolls the batch back.
    """
    if connection.vendor != "postgresql":
        records_update_batch(records, bumps, now)
        history_and_audit_write(applied, now)
        events_mark(outcomes, decisions, now)
        return
    with connection.wrap_database_errors, connection.connection.pipeline():
        records_update_batch(records, bumps, now)
        events_mark(outcomes, decisions, now)
        history, entries = history_and_audit_rows(applied, now)
        audit = audit_batch_make(entries) if applied else None
    record_changes_from_jlis(history)
    if audit:
        audit_batch_write(audit)


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
