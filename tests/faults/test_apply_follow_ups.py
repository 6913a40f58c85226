"""The apply task's follow-ups (applier/tasks.py, docs/reliability.md): a run that leaves pending
events it did not take (another session claims them) queues another run; while those runs find
nothing to apply, each waits twice as long as the one before, and after FOLLOW_UPS_IDLE_MAX of
them beat's sweep takes over. Before, a run queued the next for as long as another session held
a claim: several workers, each seeing the others' claims, queued each other without end while
events waited."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connections
from django.utils import timezone

from applier import tasks as applier_tasks
from jlis_gateway.models import JlisEvent

from .test_appliers_concurrent import _patched
from .test_appliers_interleavings import _holder, _latest
from .world import ADDRESSES, events_copy, records_for_generated

pytestmark = [pytest.mark.faults, pytest.mark.postgres]


def _queued_runs(limit: int) -> list[tuple[tuple[Any, ...], int]]:
    """Runs the task as the broker would (each follow-up right away), up to `limit` runs; the
    (args, countdown) of each follow-up it queued."""
    queued: list[tuple[tuple[Any, ...], int]] = []

    def apply_async(args: tuple[Any, ...] = (), countdown: int = 0, **_: Any) -> None:
        queued.append((tuple(args), countdown))

    with _patched(applier_tasks.events_apply, "apply_async", apply_async):
        args: tuple[Any, ...] = ()
        for _ in range(limit):
            before = len(queued)
            applier_tasks.events_apply(*args)
            if len(queued) == before:
                break
            args = queued[-1][0]
    return queued


def test_follow_ups_that_find_nothing_to_apply_wait_longer_each_time_and_then_stop(
    transactional_db: None, settings: Any
):
    settings.JLIS_APPLY_FOLLOW_UP_SECONDS = 5
    # One event waits for a serial nobody has linked yet (within the grace); another session
    # (a run alongside, alive) holds its claim on a second event for the whole test.
    events_copy([_latest("fu_waits", 1, "69000001", "69000001", ADDRESSES[1])])
    holder = _holder(71)
    records_for_generated([holder])
    events_copy([_latest("fu_claimed", 1, holder["serial"], "61007101", ADDRESSES[2])])
    JlisEvent.objects.update(received_at=timezone.now() - timedelta(seconds=1))
    other = _claimed("fu_claimed")
    try:
        queued = _queued_runs(limit=50)
    finally:
        other.rollback()
        other.close()
    countdowns = [countdown for _, countdown in queued]
    assert countdowns == [5 * 2**n for n in range(1, applier_tasks.FOLLOW_UPS_IDLE_MAX + 1)]
    assert sum(countdowns) < 3600  # then beat's sweep (JLIS_APPLY_SWEEP_SECONDS) takes it
    # Once the other session is done, the next run (the sweep's) applies its event.
    applier_tasks.events_apply()
    assert JlisEvent.objects.get(event_id="fu_claimed").status == "applied"


def _claimed(event_id: str) -> Any:
    """Another session (a run alongside) claiming one event until it is rolled back."""
    other = connections.create_connection("default")
    other.set_autocommit(False)
    with other.cursor() as cursor:
        cursor.execute("SELECT 1 FROM jlis_gateway_jlisevent WHERE event_id = %s FOR UPDATE", [event_id])
    return other


def test_a_follow_up_that_applies_something_starts_the_waits_again(transactional_db: None, settings: Any):
    settings.JLIS_APPLY_FOLLOW_UP_SECONDS = 5
    first, second = _holder(72), _holder(73)
    records_for_generated([first, second])
    events_copy([_latest("fu_first", 1, first["serial"], first["serial"], ADDRESSES[1])])
    events_copy([_latest("fu_second", 1, second["serial"], second["serial"], ADDRESSES[2])])
    queued: list[tuple[tuple[Any, ...], int]] = []

    def apply_async(args: tuple[Any, ...] = (), countdown: int = 0, **_: Any) -> None:
        queued.append((tuple(args), countdown))

    claims = [_claimed("fu_first"), _claimed("fu_second")]
    try:
        with _patched(applier_tasks.events_apply, "apply_async", apply_async):
            applier_tasks.events_apply(3)  # the fourth follow-up in a row to find nothing
            assert queued == [((4,), 5 * 2**4)]
            done = claims.pop(0)  # the run alongside is done with fu_first, not with fu_second
            done.rollback()
            done.close()
            applier_tasks.events_apply(4)
        assert JlisEvent.objects.get(event_id="fu_first").status == "applied"
        assert queued[1:] == [((0,), 5)]  # it applied something: the next waits the least again
    finally:
        for claim in claims:
            claim.rollback()
            claim.close()
