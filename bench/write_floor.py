"""B1's floor: what one applier must write, and nothing else, timed.

The ceiling makes the applier's record changes alone. Every event the applier takes also leaves
its status (and its erased items, R2), every applied one its history rows and its audit row,
whatever the code that decides them. The floor makes the ceiling's record changes and those
writes again, copied from the applier's run, set-based in raw SQL in one transaction committed as
the applier commits a batch (asynchronously), the rows to insert already on the server: no
reads, no decisions, no Python, no rows sent. An applier that writes the same rows on one
connection cannot take less time, so the floor's ratio to the ceiling bounds B1's ratio.
"""

from __future__ import annotations

import time

from django.db import connection, transaction

from onestop.audit_actions import AuditAction

from .population import settle, vacuum_analyze

EVENTS = "jlis_gateway_jlisevent"
HISTORY = "driver_records_recordchange"
AUDIT = "onestop_auditevent"
HISTORY_COLUMNS = "record_id, field, old_value, new_value, jlis_event_id, changed_at, source, reason"
AUDIT_COLUMNS = (
    "occurred_at, actor_label, action, subject_type, subject_id, record_number, serial, old_values, new_values,"
    " request_id"
)


def floor_measure(*, event_prefix: str, records_update) -> float:
    """Seconds of one pass over the writes of the applier's run on the events whose ids start
    with `event_prefix`; `records_update(cursor)` makes the ceiling's record changes (forward).
    The events are set back to pending first, and the history's event ids get a suffix (an event
    writes a field's history once: the constraint would refuse the same ids)."""
    like = event_prefix.replace("%", r"\%") + "%"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE floor_events AS SELECT id, status, reason, processed_at, payload FROM {EVENTS}"
            " WHERE event_id LIKE %s",
            [like],
        )
        cursor.execute(
            f"CREATE TEMP TABLE floor_history AS SELECT record_id, field, old_value, new_value,"
            f" jlis_event_id || '.floor' AS jlis_event_id, changed_at, source, reason FROM {HISTORY}"
            " WHERE jlis_event_id LIKE %s",
            [like],
        )
        cursor.execute(
            f"CREATE TEMP TABLE floor_audit AS SELECT {AUDIT_COLUMNS} FROM {AUDIT}"
            " WHERE action = %s AND new_values->>'event_id' LIKE %s",
            [AuditAction.RECORD_APPLY_JLIS.value, like],
        )
        cursor.execute(
            f"UPDATE {EVENTS} AS e SET status = 'pending', reason = '', processed_at = NULL"
            " FROM floor_events AS f WHERE e.id = f.id"
        )
    vacuum_analyze(EVENTS)  # the applier met its events freshly vacuumed too
    settle()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        records_update(cursor)
        cursor.execute(
            f"UPDATE {EVENTS} AS e SET status = f.status, reason = f.reason, processed_at = f.processed_at,"
            " payload = f.payload FROM floor_events AS f WHERE e.id = f.id"
        )
        cursor.execute(f"INSERT INTO {HISTORY} ({HISTORY_COLUMNS}) SELECT {HISTORY_COLUMNS} FROM floor_history")
        cursor.execute(f"INSERT INTO {AUDIT} ({AUDIT_COLUMNS}) SELECT {AUDIT_COLUMNS} FROM floor_audit")
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE floor_events, floor_history, floor_audit")
    return seconds
