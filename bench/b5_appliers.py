"""B5: the applier's throughput with 1, 2 and 4 worker processes applying at once, as a ratio to
one process. 1,000,000 records as B1; a fresh 100,000 "latest information" events (B1's mix,
about other holders each time) for each count of processes.

The appliers are processes, each with its own PostgreSQL session, as Celery's prefork pool runs
them: an applier spends about half its time in Python (deciding, making history and audit rows),
which threads would serialise on the GIL. Each runs the apply task's loop (applier/tasks.py): a
run over every pending event, then another while more are pending than it left waiting.

Runs on PostgreSQL (DATABASE_URL) in a scratch database made for the run and dropped after.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import time
from collections.abc import Iterator
from multiprocessing.synchronize import Event as StartSignal

from django.conf import settings
from django.db import connections
from django.utils import timezone

from applier.batch import events_apply_pending
from jlis_gateway.inbox import events_pending_count

from .population import SERIAL_BASE, events_copy, latest_info_events, records_create, settle, vacuum_analyze
from .scratch import scratch_database

RECORDS = 1_000_000
LINKED = 150_000
EVENTS = 100_000
PROCESSES = (1, 2, 4)
HOLDERS_EACH = 45_000  # each count of processes gets events about holders of its own
BATCH_SIZE = 1000


def run() -> Iterator[str]:
    if not settings.USING_POSTGRES:
        yield "B5 skipped: needs PostgreSQL (set DATABASE_URL)"
        return
    with scratch_database("b5"):
        yield from _measure()


def _measure() -> Iterator[str]:
    now = timezone.now()
    started = time.perf_counter()
    records_create(count=RECORDS, linked=LINKED, now=now)
    vacuum_analyze("driver_records_driverrecord", "consents_consent")
    loaded = time.perf_counter() - started
    per_s: dict[int, float] = {}
    applied: dict[int, int] = {}
    for n, processes in enumerate(PROCESSES):
        first = 1 + n * HOLDERS_EACH
        events = latest_info_events(
            holders=range(first, first + HOLDERS_EACH),
            count=EVENTS,
            now=now,
            seed=5 + n,
            prefix=f"b5p{processes}",
            serial_start=(2 + n) * SERIAL_BASE,
        )
        events_copy(events)
        del events
        vacuum_analyze("jlis_gateway_jlisevent")
        settle()
        gc.collect()
        seconds, applied[processes] = _appliers(processes)
        per_s[processes] = EVENTS / seconds
    one = per_s[1]
    yield (
        f"B5 appliers ratio_2={per_s[2] / one:.2f} ratio_4={per_s[4] / one:.2f} per_s_1={per_s[1]:,.0f} "
        f"per_s_2={per_s[2]:,.0f} per_s_4={per_s[4]:,.0f} events={EVENTS} records={RECORDS} "
        f"applied={'/'.join(str(applied[p]) for p in PROCESSES)} batch_size={BATCH_SIZE} cpus={os.cpu_count()} "
        f"(loading took {loaded:.0f}s)"
    )


def _appliers(processes: int) -> tuple[float, int]:
    """Seconds from the start signal until `processes` appliers have applied every event, and
    how many they applied."""
    context = multiprocessing.get_context("fork")  # the children keep the scratch database's settings
    connections.close_all()  # each child opens its own session
    start = context.Event()
    results = context.Queue()
    children = [context.Process(target=_applier, args=(start, results)) for _ in range(processes)]
    for child in children:
        child.start()
    began = time.perf_counter()
    start.set()
    counts = [results.get() for _ in children]
    seconds = time.perf_counter() - began
    for child in children:
        child.join()
        assert child.exitcode == 0, child.exitcode
    assert events_pending_count() == 0, "an applier left events pending"
    return seconds, sum(counts)


def _applier(start: StartSignal, results: multiprocessing.Queue) -> None:
    start.wait()
    applied = 0
    while True:  # the apply task and its follow-up (applier/tasks.py)
        result = events_apply_pending(batch_size=BATCH_SIZE)
        applied += result.applied
        if events_pending_count() <= result.waiting:
            break
        if not result.applied + result.skipped:
            time.sleep(0.1)  # the others hold what is left (the task would wait 5 s before its follow-up)
    connections.close_all()
    results.put(applied)
