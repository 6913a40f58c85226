"""Bytes per row of the tables that grow with holders and with moves, read after a benchmark's load
(docs/performance.md, "Growth"): each table's pg_total_relation_size (heap, TOAST and indexes)
over its rows. A table updated after its rows were written (events: stored, then marked) also
holds the dead versions autovacuum has not yet made reusable, as a live table does."""

from __future__ import annotations

from django.db import connection

# (name in the line, table): the holders' tables, then those that grow with every move.
TABLES = (
    ("records", "driver_records_driverrecord"),
    ("consents", "consents_consent"),
    ("events", "jlis_gateway_jlisevent"),
    ("history", "driver_records_recordchange"),
    ("audit", "onestop_auditevent"),
)


def bytes_per_row() -> dict[str, tuple[int, float]]:
    """{name: (rows, bytes per row)} of each table that has rows."""
    sizes = {}
    with connection.cursor() as cursor:
        for name, table in TABLES:
            cursor.execute(f"SELECT count(*), pg_total_relation_size(%s) FROM {table}", [table])
            rows, total = cursor.fetchone()
            if rows:
                sizes[name] = (rows, total / rows)
    return sizes


def sizes_line(prefix: str) -> str:
    sizes = bytes_per_row()
    per_row = " ".join(f"{name}_bytes_per_row={per:.0f}" for name, (_, per) in sizes.items())
    rows = " ".join(f"{name}={rows}" for name, (rows, _) in sizes.items())
    return f"{prefix} {per_row} (rows: {rows})"
