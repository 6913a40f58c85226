"""Loading what the decision needs for many events at once: a few queries per batch (the events
themselves come from the gateway's inbox, jlis_gateway/inbox.py).

On PostgreSQL the batch's keys go as one JSON parameter unpacked into an array (`= ANY(...)`),
instead of an IN list of a thousand placeholders or a list psycopg dumps value by value, and
rows come back through psycopg's C loaders (sql_params).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.db import connection

from consents.governing import governing_consents
from driver_records.models import DriverRecord, RecordChange
from onestop.sql_params import any_json_values, fetch_rows, json_values

from .decide import ConsentView, RecordState

RECORD_FIELDS = (
    "id", "number", "holding_status", "cert_serial", "cert_not_after", "cert_seq", "jlis_seq", "feed_stopped_at",
    "name", "address", "birth_date", "version",
)  # fmt: skip


def _postgres() -> bool:
    return connection.vendor == "postgresql"


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
            f" WHERE cert_serial = {any_json_values('text')} AND cert_serial <> '' ORDER BY id FOR UPDATE",
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
