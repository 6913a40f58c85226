"""A Celery worker killed with SIGKILL in the middle of applying 100,000 J-LIS events: once it
is back, every event is applied exactly once and the records equal the in-order reference."""

from __future__ import annotations

import os
import signal

import pytest
import redis
from django.conf import settings

from applier.tasks import events_apply
from jlis_gateway.models import EventStatus, JlisEvent
from onestop.audit import audit_chain_verify
from onestop.audit_chain import audit_chain_link
from tests.jlis_fixtures import wait_until

from .conftest import FAST_REDELIVERY, log_count, pool_processes, sweep_until
from .world import assert_matches, events_copy, outcome, records_for_generated, reference_fold, stream_generate

EVENTS = 100_000
HOLDERS = 2_000

pytestmark = [
    pytest.mark.faults,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.celery_worker,
]


def applied() -> int:
    return JlisEvent.objects.filter(status=EventStatus.APPLIED).count()


def pending() -> int:
    return JlisEvent.objects.filter(status=EventStatus.PENDING).count()


def in_broker(task_id: str) -> bool:
    """The task's message is still held by the broker: queued, or delivered and unacknowledged."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    held = list(client.hvals("unacked")) + list(client.lrange(settings.CELERY_TASK_DEFAULT_QUEUE, 0, -1))
    return any(task_id.encode() in message for message in held)


def test_a_worker_killed_mid_apply_of_100000_events_loses_nothing_and_applies_nothing_twice(clean_broker, workers):
    stream = stream_generate(count=EVENTS, holders=HOLDERS, seed=11)
    records_for_generated(stream.holders)
    events_copy(stream.events)
    reference = reference_fold(stream.events)
    assert len(reference.applied) == EVENTS  # every event applies when taken in order

    options = {"env": FAST_REDELIVERY, "concurrency": 1, "hostname": "faults-killed@localhost"}
    worker = workers(**options)
    log = worker.log
    task_id = events_apply.delay().id
    received = f"applier.events_apply[{task_id}] received"

    # 1. The pool process running the task dies: the worker notices and requeues the task
    #    (task_reject_on_worker_lost), and a new pool process takes it up.
    wait_until(lambda: applied() >= EVENTS // 5, 300, f"a fifth of the events applied ({log})")
    [pool] = pool_processes(worker.process.pid)
    os.kill(pool, signal.SIGKILL)
    wait_until(lambda: applied() >= EVENTS // 2, 300, f"the requeued task to go on ({log})")
    assert log_count(log, received) >= 2

    # 2. The whole worker dies (kill -9 of its process group, as a crashed machine): nothing
    #    acknowledges the task, and the broker holds it until its visibility timeout passes.
    worker.kill()
    done_at_kill = applied()
    assert EVENTS // 2 <= done_at_kill < EVENTS
    assert in_broker(task_id)
    workers(**options)
    wait_until(lambda: log_count(log, f"events_apply[{task_id}] succeeded") >= 1, 600, f"the task to end ({log})")
    assert log_count(log, received) >= 3  # the one task, delivered again after each death
    # Events whose batch the dying session still held when the task came back may have waited
    # for it: beat's apply sweep (driver-records-apply) takes them; here the test sweeps.
    sweep_until(lambda: pending() == 0, events_apply, 300, f"every event applied ({log})")

    result = outcome()
    assert result.statuses == {EventStatus.APPLIED: EVENTS}
    assert_matches(result, reference)
    audit_chain_link()  # as the chainer does after the commits
    assert audit_chain_verify() is None  # the rolled-back batches left no gap in the audit chain
