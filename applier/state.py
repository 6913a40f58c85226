"""Loading what the decision needs for many events at once: a few queries per batch. The events
come from the gateway's inbox (jlis_gateway/inbox.py), the records and their past serials from
the register (driver_records/bulk.py), the governing consents from consents/governing.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from consents.governing import governing_consents
from consents.selectors import jlis_consent_ids_of_records, records_by_jlis_consent_id
from driver_records.bulk import (
    RECORD_FIELDS,
    records_lock_free,
    records_lock_linked,
    serials_before_of,
    serials_linked,
    serials_linked_before,
    serials_seen_before,
)
from jlis_gateway.inbox import (
    serials_moved_to_by_applied,
    serials_named_as_holders,
    serials_named_by_applied_consent_events,
)

from .decide import ConsentView, RecordState


@dataclass(frozen=True)
class LockedRecords:
    """A batch's records, locked, by serial; and the serials whose record another session holds
    (another applier's batch, a clerk's change): their events wait for a later run."""

    by_serial: dict[str, RecordState]
    held_elsewhere: frozenset[str]


def lock_records_by_serial(serials: Iterable[str]) -> LockedRecords:
    """The records these serials name, locked, by serial; never waiting for a lock.

    First the records linked to them now, in id order (every writer's order), those no other
    session holds. Then, for a serial no record is linked to now, the record it was linked to
    once (R13: J-LIS's events that reached us late name it, and the link only moves forward:
    whether one is stale is for the holder's sequence to say), likewise only if free. Waiting
    would make two appliers whose batches share one holder take turns for the whole batch.
    """
    wanted = set(serials)
    index = {state.cert_serial: state for state in (RecordState(*row) for row in records_lock_linked(wanted))}
    held = serials_linked(wanted - index.keys())
    before = serials_linked_before(wanted - index.keys() - held)
    if before:
        locked = {state.id: state for state in index.values()}
        ids = set(before.values()) - locked.keys()
        locked |= {state.id: state for state in (RecordState(*row) for row in records_lock_free(ids))} if ids else {}
        index |= {serial: locked[record_id] for serial, record_id in before.items() if record_id in locked}
        held |= {serial for serial, record_id in before.items() if record_id not in locked}
    # Last, a serial an applied event named as the holder's, where the link (at a later sequence
    # already) did not follow (R13): a move's new serial, on the record of the serial that move
    # left; a reflection's or a Mynaportal registration's serial, on its consent's record. Skipped
    # as unknown, the holder's next event, newer than the data applied, was lost.
    moved = serials_moved_to_by_applied(serials=wanted - index.keys() - held)
    if moved:
        earlier = lock_records_by_serial(set(moved.values()) - wanted)
        index |= {serial: earlier.by_serial[left] for serial, left in moved.items() if left in earlier.by_serial}
        held |= {serial for serial, left in moved.items() if left in earlier.held_elsewhere}
    named = serials_named_by_applied_consent_events(serials=wanted - index.keys() - held)
    if named:
        records = records_by_jlis_consent_id(named.values())
        of_serial = {serial: records[consent_id] for serial, consent_id in named.items() if consent_id in records}
        locked = {state.id: state for state in index.values()}
        ids = set(of_serial.values()) - locked.keys()
        locked |= {state.id: state for state in (RecordState(*row) for row in records_lock_free(ids))} if ids else {}
        index |= {serial: locked[record_id] for serial, record_id in of_serial.items() if record_id in locked}
        held |= {serial for serial, record_id in of_serial.items() if record_id not in locked}
    return LockedRecords(index, frozenset(held))


def serials_linked_or_seen(serials: set[str]) -> set[str]:
    """Those of these serials a record is linked to now or was linked to once, as last committed:
    an event naming one is not about an unknown serial (its record is another session's, or the
    event is old), whatever the batch's lock found."""
    return serials_linked(serials) | serials_seen_before(serials)


def serials_of_records(records: list[RecordState]) -> dict[str, int]:
    """serial -> record id, for every serial these records are or were linked to, and every one
    J-LIS named as their holder's where the link did not follow (a late reflection's or
    Mynaportal registration's serial; a move's new serial from any of these, chains included):
    the holder's events may name any of them (R13)."""
    ids = {state.id for state in records}
    owners = dict(serials_before_of(ids))
    owners |= {state.cert_serial: state.id for state in records if state.cert_serial}
    return serials_named_as_holders(owners, jlis_consent_ids_of_records(ids))


def consents_for(record_ids: Iterable[int]) -> dict[int, ConsentView]:
    """Each record's consent that governs the feed (R6: consents/governing.py)."""
    rows = governing_consents(record_ids, "status", "items", "last_valid_day", "created_at")
    return {
        record_id: ConsentView(status, frozenset(items), day, at)
        for record_id, (status, items, day, at) in rows.items()
    }


__all__ = [
    "RECORD_FIELDS",
    "LockedRecords",
    "consents_for",
    "lock_records_by_serial",
    "serials_linked_before",
    "serials_linked_or_seen",
    "serials_of_records",
]
