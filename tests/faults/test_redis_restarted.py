"""Redis killed and restarted (empty) while the worker polls J-LIS and relays the outbox, with
beat running: every queued task and lock in Redis is lost, yet no event or submission is, and
none is stored, applied or acted on by J-LIS twice. The database holds the work; beat's periodic
tasks pick it up again once the broker is back."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.utils import timezone

from jlis_gateway.models import EventStatus, JlisEvent, OutboxKind, OutboxMessage, OutboxStatus, QuarantinedEvent
from tests.jlis_fixtures import beat_start, wait_until

from .conftest import log_count
from .world import assert_matches, outcome, records_for_generated, reference_fold, start_state, stored_events

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.redis, pytest.mark.celery_worker]

EVENTS, SUBMISSIONS = 2000, 30
# Beat as often as a test can wait: poll, outbox sweep and apply sweep every second or two.
BEAT_ENV = {
    "JLIS_POLL_SECONDS": "1",
    "JLIS_OUTBOX_SWEEP_SECONDS": "1",
    "JLIS_APPLY_SWEEP_SECONDS": "2",
    "JLIS_PAGE_SIZE": "50",
    "JLIS_POLL_MAX_PAGES": "4",
    "JLIS_POLL_LEASE_SECONDS": "30",
}


def sent() -> int:
    return OutboxMessage.objects.filter(status=OutboxStatus.SENT).count()


def test_redis_restarted_twice_while_polling_and_relaying_loses_and_doubles_nothing(
    transactional_db, own_redis, jlis_simulator, signed_consent, workers, tmp_path: Path
):
    answer = jlis_simulator.generate(count=EVENTS, holders=200, seed=3)
    records_for_generated(answer["holders"])
    now = timezone.now()
    rows = [
        OutboxMessage.objects.create(
            kind=OutboxKind.SUBMIT_CONSENT,
            consent=signed_consent(),
            idempotency_key=f"redis-{n}",
            next_attempt_at=now,
            created_at=now,
        )
        for n in range(SUBMISSIONS)
    ]
    start = start_state()
    # Slow answers, so that reads and submissions are under way when Redis goes.
    jlis_simulator.fault("delay", target="events", probability=1.0, delay=0.1)
    jlis_simulator.fault("delay", target="submit", probability=1.0, delay=0.3)
    worker = workers(env=BEAT_ENV, broker_url=own_redis.url)
    beat = beat_start(folder=tmp_path, env=BEAT_ENV, broker_url=own_redis.url)
    try:
        for stored, relayed in ((300, 3), (1000, 12)):
            wait_until(
                lambda stored=stored, relayed=relayed: JlisEvent.objects.count() >= stored and sent() >= relayed,
                120,
                f"{stored} events stored and {relayed} rows sent ({worker.log})",
            )
            own_redis.kill()
            time.sleep(2)  # the worker and beat see the broker gone
            own_redis.start()
        wait_until(lambda: JlisEvent.objects.count() == EVENTS, 180, f"every event stored ({worker.log})")
        wait_until(lambda: sent() == SUBMISSIONS, 180, f"every row sent ({worker.log})")
        wait_until(
            lambda: not JlisEvent.objects.filter(status=EventStatus.PENDING).exists(), 180, "every event applied"
        )
    finally:
        beat.stop()
    worker.stop()
    assert log_count(worker.log, "Connection to broker lost") >= 2  # the worker did lose Redis, twice
    assert log_count(worker.log, "raised unexpected") == 0  # and no task failed for it

    # Polling: every event J-LIS served is stored once; the cursor skipped none.
    assert sorted(JlisEvent.objects.values_list("event_id", flat=True)) == sorted(answer_ids(jlis_simulator))
    assert not QuarantinedEvent.objects.exists()
    # Relaying: J-LIS acted once per row, and each consent holds the id J-LIS gave it.
    assert jlis_simulator.state()["consents"]["pending"] == SUBMISSIONS  # (the generated holders: active)
    assert {r["key"] for r in jlis_simulator.requests() if r["path"] == "/v1/consents"} == {
        row.idempotency_key for row in rows
    }
    for row in OutboxMessage.objects.select_related("consent"):
        assert row.consent.jlis_consent_id == row.response["consent_id"]
    # Applying: the records equal the in-order reference, each change written once.
    assert_matches(outcome(), reference_fold(stored_events(), start=start))


def answer_ids(simulator) -> list[str]:
    return simulator.events()["ids"]
