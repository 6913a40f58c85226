"""Loading what the decision needs for many events at once: a few queries per batch.

On PostgreSQL the batch's keys go as one JSON parameter unpacked into an array (`= ANY(...)`),
instead of an IN list of a thousand placeholders or a list psycopg dumps value by value, and
rows come back through psycopg's C loaders (sql_params).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from django.db import connection

from consents.governing import governing_consents
from driver_records.models import DriverRecord, RecordChange
from jlis_gateway.models import EventStatus, JlisEvent
from onestop.sql_params import fetch_rows, json_values

from .decide import ConsentView, RecordState

RECORD_FIELDS = (
    "id", "number", "holding_status", "cert_serial", "cert_not_after", "cert_seq", "jlis_seq", "feed_stopped_at",
    "name", "address", "birth_date", "version",
)  # fmt: skip
EVENT_FIELDS = ("id", "event_id", "kind", "holder_seq", "serial", "occurred_at", "payload", "received_at")


class EventRow(NamedTuple):
    """A stored event as the batch reads it (the fields of JlisEvent it needs, `pk` its id)."""

    pk: int
    event_id: str
    kind: str
    holder_seq: int
    serial: str
    occurred_at: datetime
    payload: dict[str, Any]
    received_at: datetime


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _any(sql_type: str) -> str:
    """`= ANY(...)` of keys passed as json_values(keys)."""
    return f"ANY(ARRAY(SELECT json_array_elements_text(%s::json))::{sql_type}[])"


def events_lock_pending(event_ids: list[int]) -> list[EventRow]:
    """Those of these events still pending, locked (skipping any another applier holds), by id."""
    if _postgres():
        return _event_rows(f"id = {_any('bigint')}", [json_values(event_ids)], 0)
    rows = (
        JlisEvent.objects.select_for_update(skip_locked=True)
        .filter(pk__in=event_ids, status=EventStatus.PENDING)
        .order_by("pk")
        .values_list(*EVENT_FIELDS)
    )
    return [EventRow(*row) for row in rows]


def events_lock_next(after: int, limit: int) -> list[EventRow]:
    """The next `limit` pending events after id `after`, locked (skipping any another applier holds)."""
    if _postgres():
        return _event_rows("id > %s", [after], limit)
    rows = (
        JlisEvent.objects.select_for_update(skip_locked=True)
        .filter(pk__gt=after, status=EventStatus.PENDING)
        .order_by("pk")
        .values_list(*EVENT_FIELDS)[:limit]
    )
    return [EventRow(*row) for row in rows]


def _event_rows(where: str, params: list[Any], limit: int) -> list[EventRow]:
    rows = fetch_rows(
        f"SELECT {', '.join(EVENT_FIELDS)} FROM jlis_gateway_jlisevent"  # noqa: S608 (fixed names)
        f" WHERE {where} AND status = %s ORDER BY id {'LIMIT %s' if limit else ''} FOR UPDATE SKIP LOCKED",
        [*params, EventStatus.PENDING, *([limit] if limit else [])],
    )
    # JSONField values come back as text on Django's connections; the ORM would decode them so.
    return [EventRow._make((*r[:6], json.loads(r[6]) if isinstance(r[6], str) else r[6], r[7])) for r in rows]


def lock_records_by_serial(serials: Iterable[str]) -> dict[str, RecordState]:
    """The records these serials name, locked, by serial.

    First the records linked to them now, locked in id order (every writer's order). Then, for a
    serial no record is linked to now, the record it was linked to once (R13: J-LIS's events that
    reached us late name it, and the link only moves forward: whether one is stale is for the
    holder's sequence to say); these are locked only if no one else holds them (never waiting
    out of id order), else the event waits for the next run.
    """
    wanted = set(serials)
    index = _lock_linked(wanted)
    before = serials_linked_before(wanted - index.keys())
    if before:
        locked = {state.id: state for state in index.values()}
        ids = set(before.values()) - locked.keys()
        locked |= {state.id: state for state in _lock_free(ids)} if ids else {}
        index |= {serial: locked[record_id] for serial, record_id in before.items() if record_id in locked}
    return index


def _lock_linked(serials: set[str]) -> dict[str, RecordState]:
    if _postgres():
        rows = fetch_rows(
            f"SELECT {', '.join(RECORD_FIELDS)} FROM driver_records_driverrecord"  # noqa: S608 (fixed names)
            f" WHERE cert_serial = {_any('text')} AND cert_serial <> '' ORDER BY id FOR UPDATE",
            [json_values(set(serials))],
        )
    else:
        rows = list(
            DriverRecord.objects.select_for_update()
            .filter(cert_serial__in=set(serials))
            .exclude(cert_serial="")
            .order_by("pk")
            .values_list(*RECORD_FIELDS)
        )
    return {state.cert_serial: state for state in (RecordState(*row) for row in rows)}


def _lock_free(record_ids: set[int]) -> list[RecordState]:
    rows = (
        DriverRecord.objects.select_for_update(skip_locked=True)
        .filter(pk__in=record_ids)
        .order_by("pk")
        .values_list(*RECORD_FIELDS)
    )
    return [RecordState(*row) for row in rows]


def serials_linked_before(serials: Iterable[str]) -> dict[str, int]:
    """serial -> the record it was linked to before its present serial (the latest such)."""
    wanted = set(serials)
    if not wanted:
        return {}
    rows = (
        RecordChange.objects.filter(field="cert_serial", old_value__in=wanted)
        .order_by("changed_at", "pk")
        .values_list("old_value", "record_id")
    )
    return dict(rows)


def serials_seen_before(serials: Iterable[str]) -> set[str]:
    """Serials some record was linked to once: an event about one of them is an old event."""
    return set(
        RecordChange.objects.filter(field="cert_serial", old_value__in=set(serials)).values_list("old_value", flat=True)
    )


def consents_for(record_ids: Iterable[int]) -> dict[int, ConsentView]:
    """Each record's consent that governs the feed (R6: consents/governing.py)."""
    rows = governing_consents(record_ids, "status", "items", "last_valid_day", "created_at")
    return {
        record_id: ConsentView(status, frozenset(json.loads(items) if isinstance(items, str) else items), day, at)
        for record_id, (status, items, day, at) in rows.items()
    }
