"""The register as the J-LIS applier reads and writes it, thousands of records per transaction:
locked reads of the records its events name, and one statement per kind of write (selectors and
services on this app's tables, raw SQL included; the applier reaches them only through here).

On PostgreSQL a batch's keys go as one JSON parameter unpacked into an array (`= ANY(...)`), rows
as one JSON text (onestop.sql_params), and rows come back through psycopg's C loaders. The writes
run on the caller's connection inside its transaction: the records' UPDATE joins the caller's
psycopg pipeline when it has one open (queued, not waited for); the history goes by COPY, which
cannot join a pipeline.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from django.db import connection

from onestop.sql_params import any_json_values, fetch_rows, json_rows, json_values

from .models import ChangeSource, DriverRecord, RecordChange
from .normalise import name_search_key

# The columns a locked read returns, in this order (the applier's RecordState has them so).
RECORD_FIELDS = (
    "id", "number", "holding_status", "cert_serial", "cert_not_after", "cert_seq", "jlis_seq", "feed_stopped_at",
    "name", "address", "birth_date", "version",
)  # fmt: skip

# A history row from J-LIS: record id, field, old value, new value, J-LIS event id, changed at.
JlisChangeRow = tuple[int, str, str, str, str, datetime]


class RecordValues(Protocol):
    """What the applier holds of a record after deciding: the values to store."""

    id: int
    name: str
    address: str
    birth_date: date
    cert_serial: str
    cert_not_after: datetime | None
    jlis_seq: int
    cert_seq: int
    version: int


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def records_lock_linked(serials: set[str]) -> list[tuple[Any, ...]]:
    """Those of the records linked to these serials now that no other session holds, locked
    (never waiting: two appliers whose batches share a holder would otherwise take turns), in id
    order: rows of RECORD_FIELDS. serials_linked says which of the rest are held elsewhere."""
    if _postgres():
        return fetch_rows(
            f"SELECT {', '.join(RECORD_FIELDS)} FROM driver_records_driverrecord"  # noqa: S608 (fixed names)
            f" WHERE cert_serial = {any_json_values('text')} AND cert_serial <> ''"
            " ORDER BY id FOR UPDATE SKIP LOCKED",
            [json_values(set(serials))],
        )
    return list(
        DriverRecord.objects.select_for_update(skip_locked=True)
        .filter(cert_serial__in=set(serials))
        .exclude(cert_serial="")
        .order_by("pk")
        .values_list(*RECORD_FIELDS)
    )


def serials_linked(serials: set[str]) -> set[str]:
    """Those of these serials a record is linked to, as last committed (no lock)."""
    if not serials:
        return set()
    linked = DriverRecord.objects.filter(cert_serial__in=serials).exclude(cert_serial="")
    return set(linked.values_list("cert_serial", flat=True))


def records_lock_free(record_ids: set[int]) -> list[tuple[Any, ...]]:
    """Those of these records no one else holds, locked (never waiting), in id order: rows of
    RECORD_FIELDS."""
    return list(
        DriverRecord.objects.select_for_update(skip_locked=True)
        .filter(pk__in=record_ids)
        .order_by("pk")
        .values_list(*RECORD_FIELDS)
    )


def record_lock_values(record_id: int) -> dict[str, Any]:
    """One record's RECORD_FIELDS, locked to the end of the caller's transaction."""
    return DriverRecord.objects.select_for_update().filter(pk=record_id).values(*RECORD_FIELDS).get()


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


def serials_before_of(record_ids: set[int]) -> list[tuple[str, int]]:
    """(serial, record id) of every serial these records were linked to before their present one
    (R13: J-LIS's events that reached us late may name one)."""
    if not record_ids:
        return []
    if _postgres():
        # By the records' index alone, the field checked on the rows found (OFFSET 0 keeps it out
        # of the probe): checked inside, the planner, whose statistics lag behind a growing history,
        # also read the whole of the past serials' index (every serial ever replaced) for each batch
        # and intersected the two, 12 ms a batch of a thousand records instead of 5.
        return fetch_rows(
            "SELECT old_value, record_id FROM ("  # noqa: S608 (fixed names)
            "SELECT old_value, record_id, field FROM driver_records_recordchange"
            f" WHERE record_id = {any_json_values('bigint')} OFFSET 0) AS found"
            " WHERE field = 'cert_serial' AND old_value <> ''",
            [json_values(record_ids)],
        )
    rows = RecordChange.objects.filter(record_id__in=record_ids, field="cert_serial").exclude(old_value="")
    return list(rows.values_list("old_value", "record_id"))


def serials_seen_before(serials: Iterable[str]) -> set[str]:
    """Serials some record was linked to once: an event about one of them is an old event."""
    return set(
        RecordChange.objects.filter(field="cert_serial", old_value__in=set(serials)).values_list("old_value", flat=True)
    )


def records_update_batch(records: Sequence[RecordValues], bumps: dict[int, int], now: datetime) -> None:
    """Store each record's values (the search key derived from its name); `bumps` says by how
    much each one's version grows. PostgreSQL: one UPDATE of JSON rows."""
    if not records:
        return
    if _postgres():
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


def record_changes_from_jlis(rows: list[JlisChangeRow]) -> None:
    """History rows of changes J-LIS's events made (PostgreSQL: by COPY, outside any pipeline)."""
    if not rows:
        return
    if _postgres():
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


__all__ = [
    "RECORD_FIELDS",
    "JlisChangeRow",
    "RecordValues",
    "record_changes_from_jlis",
    "record_lock_values",
    "records_lock_free",
    "records_lock_linked",
    "records_update_batch",
    "serials_before_of",
    "serials_linked",
    "serials_linked_before",
    "serials_seen_before",
]
