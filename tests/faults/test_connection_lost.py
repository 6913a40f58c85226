"""The worker's PostgreSQL connection terminated (pg_terminate_backend) in the middle of its
work: the task is retried on a new connection, the interrupted transaction was rolled back,
and nothing is lost or applied twice."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from applier.tasks import events_apply
from jlis_gateway.models import EventStatus, JlisEvent, PollState, QuarantinedEvent
from jlis_gateway.tasks import poll_events
from tests.jlis_fixtures import wait_until

from .conftest import log_count
from .world import (
    assert_matches,
    events_copy,
    outcome,
    records_for_generated,
    reference_fold,
    start_state,
    stored_events,
    stream_generate,
)

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.redis, pytest.mark.celery_worker]


def terminate_in_transaction(application_name: str) -> int:
    """Terminate the named backends that are inside a transaction right now; how many were."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # inside a transaction the view is a snapshot
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = %s AND xact_start IS NOT NULL AND pid <> pg_backend_pid()",
            [application_name],
        )
        return cursor.fetchone()[0]


def applied() -> int:
    return JlisEvent.objects.filter(status=EventStatus.APPLIED).count()


def test_a_connection_terminated_mid_batch_is_retried_and_each_event_applied_once(clean_broker, workers):
    events = 20_000
    stream = stream_generate(count=events, holders=500, seed=12)
    records_for_generated(stream.holders)
    events_copy(stream.events)
    reference = reference_fold(stream.events)
    log = workers(concurrency=1, application_name="faults-apply").log
    task_id = events_apply.delay().id
    terminated = []
    for share in (0.2, 0.6):
        wait_until(lambda share=share: applied() >= events * share, 300, f"{share:.0%} applied ({log})")
        wait_until(
            lambda: terminated.append(terminate_in_transaction("faults-apply")) or terminated[-1] > 0,
            30,
            "the worker inside a batch",
        )
    wait_until(lambda: applied() == events, 300, f"every event applied ({log})")
    wait_until(lambda: log_count(log, f"events_apply[{task_id}] succeeded") == 1, 60, "the task to succeed")
    # Once per connection terminated (a busy machine may catch one in a transaction twice).
    assert log_count(log, f"events_apply[{task_id}] retry: Retry in") == sum(terminated) >= 2
    assert_matches(outcome(), reference)


def test_a_connection_terminated_while_polling_is_retried_and_the_cursor_skips_nothing(
    clean_broker, jlis_simulator, workers
):
    answer = jlis_simulator.generate(count=3000, holders=300, seed=5)
    records_for_generated(answer["holders"])
    start = start_state()
    jlis_simulator.fault("delay", probability=1.0, delay=0.05)  # a poll of 60 pages takes a while
    env = {"JLIS_PAGE_SIZE": "50", "JLIS_POLL_MAX_PAGES": "1000", "JLIS_APPLY_SWEEP_SECONDS": "3600"}
    log = workers(concurrency=1, application_name="faults-poll", env=env).log
    task_id = poll_events.delay().id
    terminated = []
    for stored in (500, 1500):
        wait_until(lambda stored=stored: JlisEvent.objects.count() >= stored, 120, f"{stored} stored ({log})")
        with transaction.atomic():
            # Hold the feed's row: the worker's next page waits for it inside its transaction.
            PollState.objects.select_for_update().get(name="events")
            wait_until(
                lambda: terminated.append(terminate_in_transaction("faults-poll")) or terminated[-1] > 0,
                30,
                "the worker storing a page",
            )
    wait_until(lambda: JlisEvent.objects.count() == 3000, 180, f"every event stored ({log})")
    wait_until(lambda: log_count(log, f"poll_events[{task_id}] succeeded") == 1, 60, "the poll to succeed")
    wait_until(lambda: not JlisEvent.objects.filter(status=EventStatus.PENDING).exists(), 180, "applied")
    assert log_count(log, f"poll_events[{task_id}] retry: Retry in") == sum(terminated) >= 2
    assert sorted(JlisEvent.objects.values_list("event_id", flat=True)) == sorted(jlis_simulator.events()["ids"])
    assert not QuarantinedEvent.objects.exists()
    state = PollState.objects.get()
    assert (state.claim_token, state.last_error) == ("", "")  # the retried poll took the feed again at once
    assert_matches(outcome(), reference_fold(stored_events(), start=start))
