"""B1: the applier's throughput on 1,000,000 records and 100,000 "latest information" events,
against the ceiling (the same row changes as plain set-based UPDATEs in raw SQL) and a naive
per-event ORM loop (the applier's per-event path, on a smaller set of the same mix).

Runs on PostgreSQL (DATABASE_URL) in a scratch database made for the run and dropped after.
"""

from __future__ import annotations

import gc
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from applier.batch import ApplyResult, events_apply_pending
from driver_records.models import DriverRecord
from driver_records.normalise import name_search_key
from jlis_gateway.models import EventStatus, JlisEvent
from tests.support.one_by_one import events_apply_one_by_one

from . import figures
from .population import SERIAL_BASE, events_copy, latest_info_events, records_create, settle, vacuum_analyze
from .scratch import scratch_database
from .table_sizes import sizes_line
from .write_floor import floor_measure

RECORDS = 1_000_000
LINKED = 150_000  # records linked to a serial, with their consents
EVENTS = 100_000
HOLDERS = range(1, 60_001)  # the holders the events are about (1.6 events each on average)
NAIVE_EVENTS = 1_000
NAIVE_HOLDERS = range(100_001, 100_601)  # the same proportions, other holders
CEILING_PASSES = 3  # back, forth, back: the median, as one short measurement is at the mercy of the machine
BATCH_SIZE = 1000
MAIN, NAIVE = "b1m", "b1n"


def run() -> Iterator[str]:
    if not settings.USING_POSTGRES:
        yield "B1 skipped: needs PostgreSQL (set DATABASE_URL)"
        return
    with scratch_database("b1"):
        yield from _measure()


def _measure() -> Iterator[str]:
    now = timezone.now()
    started = time.perf_counter()
    records_create(count=RECORDS, linked=LINKED, now=now)
    naive_events = latest_info_events(
        holders=NAIVE_HOLDERS, count=NAIVE_EVENTS, now=now, seed=2, prefix=NAIVE, serial_start=3 * SERIAL_BASE
    )
    events_copy(naive_events)
    del naive_events
    vacuum_analyze("driver_records_driverrecord", "consents_consent", "jlis_gateway_jlisevent")
    loaded = time.perf_counter() - started

    settle()
    started = time.perf_counter()
    naive = events_apply_one_by_one()
    naive_s = time.perf_counter() - started
    assert naive.waiting == 0 and naive.applied + naive.skipped == NAIVE_EVENTS, naive

    result, applier_s = applier_measure(holders=HOLDERS, events=EVENTS, now=now)
    # What each row of the growing tables costs, for docs/performance.md's growth figures: read
    # as the applier left them (the floor below writes its rows a second time).
    sizes = sizes_line("B1 table_sizes")
    passes, floor_s = ceiling_and_floor_measure(holders=HOLDERS, applied=result.applied, now=now)
    ceiling_s = sorted(passes)[len(passes) // 2]

    applier_per_s, ceiling_per_s = EVENTS / applier_s, EVENTS / ceiling_s
    figures.measured["B1.events_per_s"] = applier_per_s
    skipped = " ".join(f"{reason}={n}" for reason, n in sorted(result.skipped_by_reason.items()))
    yield (
        f"B1 apply ratio={applier_per_s / ceiling_per_s:.2f} events_per_s={applier_per_s:,.0f} "
        f"ceiling_per_s={ceiling_per_s:,.0f} naive_per_s={NAIVE_EVENTS / naive_s:,.0f} "
        f"events={EVENTS} records={RECORDS} applied={result.applied} batch_size={BATCH_SIZE} "
        f"seconds={applier_s:.1f} ceiling_seconds={'/'.join(f'{p:.1f}' for p in passes)} naive_events={NAIVE_EVENTS} "
        f"(loading took {loaded:.0f}s; skipped: {skipped})"
    )
    # What no applier writing the same rows can beat: the bound of B1's ratio (bench/write_floor.py).
    yield (
        f"B1 floor ratio={ceiling_s / floor_s:.2f} floor_per_s={EVENTS / floor_s:,.0f} seconds={floor_s:.1f} "
        f"applier_to_floor={floor_s / applier_s:.2f} (the ceiling's record changes with the applier's event "
        "statuses, history rows and audit rows, set-based in raw SQL in one transaction)"
    )
    yield sizes


def applier_measure(*, holders: range, events: int, now: datetime) -> tuple[ApplyResult, float]:
    """`events` "latest information" events of B1's mix about `holders` (linked records), stored
    as the poller stores them, then applied by the applier: its result and seconds."""
    generated = latest_info_events(
        holders=holders, count=events, now=now, seed=1, prefix=MAIN, serial_start=2 * SERIAL_BASE
    )
    events_copy(generated)
    del generated  # the worker that applies them never held them: nor does this process
    vacuum_analyze("jlis_gateway_jlisevent")
    settle()
    gc.collect()

    started = time.perf_counter()
    result = events_apply_pending(batch_size=BATCH_SIZE)
    seconds = time.perf_counter() - started
    assert result.waiting == 0 and result.applied + result.skipped == events, result
    assert not JlisEvent.objects.filter(status=EventStatus.PENDING).exists()
    return result, seconds


def ceiling_measure(*, holders: range, applied: int, now: datetime) -> list[float]:
    """The seconds of each set-based pass over the applier's row changes (`applier_measure`'s,
    about `holders`): undoing, redoing, undoing."""
    return _ceiling_passes(holders=holders, applied=applied, now=now)[0]


def ceiling_and_floor_measure(*, holders: range, applied: int, now: datetime) -> tuple[list[float], float]:
    """The ceiling's passes, then the floor's one (bench/write_floor.py): it redoes the row
    changes the last pass undid, with the applier's other writes."""
    passes, forward = _ceiling_passes(holders=holders, applied=applied, now=now)
    assert len(passes) % 2, "the floor redoes what the last pass undid"
    return passes, floor_measure(event_prefix=MAIN, records_update=lambda c: _records_update(c, forward, now, +1))


def _ceiling_passes(*, holders: range, applied: int, now: datetime) -> tuple[list[float], list[Round]]:
    backward, forward = _rounds(now)
    rows = sum(len(r[0]) for r in backward)
    assert rows == applied, (rows, applied)
    passes = []
    for n in range(CEILING_PASSES):
        settle()
        passes.append(_ceiling(forward if n % 2 else backward, now, +1 if n % 2 else -1))
        undone = DriverRecord.objects.filter(pk__range=(holders[0], holders[-1]), version__gt=1).count()
        assert undone == (len(backward[0][0]) if n % 2 else 0), "a pass did not undo (or redo) the applier's work"
    return passes, forward


Round = tuple[list[int], list[str], list[str], list[str], list, list[str], list, list[int]]
FIELDS = ("name", "address", "birth_date", "cert_serial", "cert_not_after")


def _rounds(now: datetime) -> tuple[list[Round], list[Round]]:
    """The applier's row changes as plain set-based UPDATEs, prepared before timing.

    Backward: round k sets each record that had at least k+1 events applied back to its state
    before its (k+1)-th last one, so the rounds undo the applier's work. Forward: the same
    states in the other order, redoing it. In each round (one statement) a record appears once,
    and every round changes the indexed columns, as each of the applier's writes does.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, name, address, birth_date, cert_serial, cert_not_after, jlis_seq"
            " FROM driver_records_driverrecord WHERE version > 1"
        )
        state = {row[0]: dict(zip((*FIELDS, "jlis_seq"), row[1:], strict=True)) for row in cursor}
        cursor.execute(
            "SELECT c.record_id, e.holder_seq, c.field, c.old_value FROM driver_records_recordchange c"
            " JOIN jlis_gateway_jlisevent e ON e.event_id = c.jlis_event_id"
            " WHERE e.event_id LIKE %s ORDER BY c.record_id, e.holder_seq DESC",
            [MAIN + "%"],
        )
        per_record: dict[int, dict[int, dict[str, str]]] = defaultdict(dict)
        for record_id, seq, field, old in cursor:
            per_record[record_id].setdefault(seq, {})[field] = old
    backward: list[list[tuple]] = []
    forward: list[list[tuple]] = []
    for record_id, changes in per_record.items():
        current = dict(state[record_id])
        states = [(record_id, current["name"], current["address"], current["birth_date"], current["cert_serial"],
                   current["cert_not_after"], current["jlis_seq"])]  # fmt: skip
        for seq, olds in sorted(changes.items(), reverse=True):
            for field, old in olds.items():
                current[field] = _parse(field, old)
            states.append((record_id, current["name"], current["address"], current["birth_date"],
                           current["cert_serial"], current["cert_not_after"], seq - 1))  # fmt: skip
        # states: after the last event, before it, ..., before the first one
        depth = len(states) - 1
        for k in range(depth):
            while len(backward) <= k:
                backward.append([])
                forward.append([])
            backward[k].append(states[k + 1])
            forward[k].append(states[depth - 1 - k])
    return [_columns(r) for r in backward], [_columns(r) for r in forward]


def _columns(rows: list[tuple]) -> Round:
    ids, names, addresses, births, serials, not_afters, seqs = (list(c) for c in zip(*rows, strict=True))
    return ids, names, [name_search_key(n) for n in names], addresses, births, serials, not_afters, seqs


def _parse(field: str, value: str):
    if field == "birth_date":
        return datetime.fromisoformat(value).date()
    if field == "cert_not_after":
        return datetime.fromisoformat(value) if value else None
    return value


def _ceiling(rounds: list[Round], now: datetime, bump: int) -> float:
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        _records_update(cursor, rounds, now, bump)
    return time.perf_counter() - started


def _records_update(cursor, rounds: list[Round], now: datetime, bump: int) -> None:
    for ids, names, keys, addresses, births, serials, not_afters, seqs in rounds:
        cursor.execute(
            """
            UPDATE driver_records_driverrecord AS r
            SET name = v.name, name_key = v.name_key, address = v.address, birth_date = v.birth_date,
                cert_serial = v.cert_serial, cert_not_after = v.cert_not_after, jlis_seq = v.jlis_seq,
                version = r.version + %s, updated_at = %s
            FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::date[], %s::text[],
                        %s::timestamptz[], %s::bigint[])
                 AS v(id, name, name_key, address, birth_date, cert_serial, cert_not_after, jlis_seq)
            WHERE r.id = v.id
            """,
            [bump, now, ids, names, keys, addresses, births, serials, not_afters, seqs],
        )
        assert cursor.rowcount == len(ids)
