"""A pool process killed while its batch is held: the events of that batch do not wait for beat's
apply sweep. The requeued task cannot claim them while the dead process's session still holds
them (a PostgreSQL backend whose client died only notices when it next talks to it; one in the
middle of a long statement does not); once that session is gone, another run must take them
within seconds."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection

from applier.tasks import events_apply
from jlis_gateway.models import EventStatus, JlisEvent
from onestop.audit import audit_chain_verify
from tests.jlis_fixtures import wait_until

from .conftest import log_count, pool_processes
from .world import assert_matches, events_copy, outcome, records_for_generated, reference_fold, stream_generate

EVENTS = 5_000  # five batches of 1,000
HOLDERS = 500
WORKER_APP = "onestop-takeover-worker"
# Far above anything this test waits for: no periodic sweep can be what takes the events over.
SWEEP_SECONDS = "3600"
# Generous, for a shared machine; well below the sweep. The take-over itself is a few seconds.
DEADLINE = 120

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.redis, pytest.mark.celery_worker]

# The first transaction to update a record stalls inside its UPDATE while the flag row exists
# (a statement that runs long: a slow disk, a lock on something else); the advisory lock it takes
# lets every other transaction through.
_STALL = """
CREATE TABLE takeover_stall_flag (on_hold boolean);
INSERT INTO takeover_stall_flag VALUES (true);
CREATE FUNCTION takeover_stall() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF pg_try_advisory_xact_lock(742001) THEN
        WHILE EXISTS (SELECT 1 FROM takeover_stall_flag) LOOP
            PERFORM pg_sleep(0.05);
        END LOOP;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER takeover_stall BEFORE UPDATE ON driver_records_driverrecord
    FOR EACH ROW EXECUTE FUNCTION takeover_stall();
"""
_UNSTALL = """
DROP TRIGGER IF EXISTS takeover_stall ON driver_records_driverrecord;
DROP FUNCTION IF EXISTS takeover_stall();
DROP TABLE IF EXISTS takeover_stall_flag;
"""


def pending() -> int:
    return JlisEvent.objects.filter(status=EventStatus.PENDING).count()


def worker_stalls_in_its_update() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND wait_event = 'PgSleep'",
            [WORKER_APP],
        )
        return bool(cursor.fetchone()[0])


@contextmanager
def first_update_stalled() -> Iterator[None]:
    """The first batch to write its records stays in that statement until the block ends."""
    with connection.cursor() as cursor:
        cursor.execute(_STALL)
    try:
        yield
    finally:
        # The flag first, failure or not: DROP TRIGGER waits for the stalled transaction to end.
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM takeover_stall_flag")
            cursor.execute(_UNSTALL)


def test_a_batch_held_by_a_killed_pool_process_is_taken_over_without_the_sweep(clean_broker, workers):
    stream = stream_generate(count=EVENTS, holders=HOLDERS, seed=23)
    records_for_generated(stream.holders)
    events_copy(stream.events)
    reference = reference_fold(stream.events)

    env = {"JLIS_APPLY_SWEEP_SECONDS": SWEEP_SECONDS}
    worker = workers(env=env, concurrency=1, hostname="faults-takeover@localhost", application_name=WORKER_APP)
    log = worker.log
    task_id = events_apply.delay().id
    with first_update_stalled():
        # The first batch has claimed its 1,000 events, locked their records and stalls.
        wait_until(worker_stalls_in_its_update, 60, f"the first batch to stall in its UPDATE ({log})")
        [pool] = pool_processes(worker.process.pid)
        os.kill(pool, signal.SIGKILL)
        # The worker requeues the task at once (task_reject_on_worker_lost); the new run applies
        # what it can claim and ends while the dead session still holds the first batch (its
        # events, and their records: later events of those holders are left held too).
        wait_until(lambda: log_count(log, f"events_apply[{task_id}] succeeded") >= 1, 120, f"the requeued run ({log})")
        assert log_count(log, f"applier.events_apply[{task_id}] received") >= 2
        assert pending() >= 1_000
    # The statement ends: the dead session finds its client gone and rolls back. Its trigger is
    # dropped once it has (DROP TRIGGER waits for the table's lock).
    wait_until(lambda: pending() == 0, DEADLINE, f"every event applied or skipped without a sweep ({log})")

    result = outcome()
    assert set(result.statuses) <= {EventStatus.APPLIED, EventStatus.SKIPPED}
    assert_matches(result, reference)  # each holder's serial chain kept the order: nothing skipped
    assert audit_chain_verify() is None
