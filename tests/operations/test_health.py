"""Health endpoints and the `health` command: each part of the system against its threshold.

The thresholds are settings (docs/operations.md); each test sets the state on both sides of a
threshold and expects what the operator was promised: ok inside it, failing (naming the part)
beyond it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from consents.models import Channel, Consent, ConsentStatus
from jlis_gateway.models import OutboxKind, OutboxMessage, OutboxStatus, PollState
from operations.health import checks_run
from operations.services import BEAT, WORKER, heartbeat_record
from tests.driver_records.world import terms
from tests.factories import DriverRecordFactory
from tests.jlis_fixtures import beat_start, wait_until


def seconds_ago(seconds: float):
    return timezone.now() - timedelta(seconds=seconds)


def outcome(name: str):
    (result,) = checks_run([name])
    return result


def test_liveness_answers_without_asking_anything_else(client):
    # No database access is allowed here (pytest-django refuses it): a database outage must not
    # make an orchestrator restart web processes that are fine.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readiness_fails_naming_every_part_that_never_ran(client):
    response = client.get("/healthz/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failing"
    assert body["checks"]["database"] == {"ok": True, "detail": "ok"}
    for part in ("worker", "beat", "jlis_poll"):
        assert body["checks"][part]["ok"] is False
        assert body["checks"][part]["detail"].endswith(": never")
    assert body["checks"]["outbox"]["ok"] is True  # nothing waits to be sent


@pytest.mark.django_db
def test_beat_is_failing_once_its_last_tick_is_older_than_the_threshold(settings):
    settings.HEALTH_BEAT_MAX_AGE_SECONDS = 120
    heartbeat_record(component=BEAT, at=seconds_ago(100))
    assert outcome("beat").ok
    heartbeat_record(component=BEAT, at=seconds_ago(140))
    result = outcome("beat")
    assert not result.ok
    assert "limit 120 s" in result.detail


@pytest.mark.django_db
def test_worker_is_failing_once_no_worker_ran_the_heartbeat_task_within_the_threshold(settings):
    settings.HEALTH_WORKER_MAX_AGE_SECONDS = 300
    settings.REDIS_URL = ""  # the embedded broker: no ping, the heartbeat alone decides
    heartbeat_record(component=WORKER, at=seconds_ago(280))
    assert outcome("worker").ok
    heartbeat_record(component=WORKER, at=seconds_ago(320))
    assert not outcome("worker").ok


@pytest.mark.django_db
def test_jlis_poll_is_failing_once_the_last_successful_poll_is_too_old(settings):
    settings.HEALTH_POLL_MAX_AGE_SECONDS = 900
    PollState.objects.create(name="events", last_success_at=seconds_ago(800))
    assert outcome("jlis_poll").ok
    # A failed attempt since does not count as a success.
    PollState.objects.filter(name="events").update(
        last_success_at=seconds_ago(1000), last_attempt_at=seconds_ago(5), last_error="GET /v1/events: HTTP 503"
    )
    assert not outcome("jlis_poll").ok


def _outbox_row(status: str, created: float) -> OutboxMessage:
    record = DriverRecordFactory()
    consent = Consent.objects.create(
        record=record,
        reference=f"R-{record.pk:06d}",
        items=["address"],
        channel=Channel.COUNTER,
        terms_version=terms(),
        status=ConsentStatus.PENDING,
        created_at=seconds_ago(created),
    )
    return OutboxMessage.objects.create(
        kind=OutboxKind.SUBMIT_CONSENT,
        consent=consent,
        idempotency_key=f"k-{record.pk}",
        status=status,
        next_attempt_at=seconds_ago(created),
        created_at=seconds_ago(created),
    )


@pytest.mark.django_db
def test_outbox_is_failing_once_the_oldest_unsent_row_waited_beyond_the_threshold(settings):
    settings.HEALTH_OUTBOX_MAX_AGE_SECONDS = 900
    _outbox_row(OutboxStatus.SENT, created=5000)  # sent long ago: not waiting
    _outbox_row(OutboxStatus.PENDING, created=600)
    assert outcome("outbox").ok
    _outbox_row(OutboxStatus.SENDING, created=1000)
    result = outcome("outbox")
    assert not result.ok
    assert "limit 900 s" in result.detail


@pytest.mark.django_db
def test_a_row_that_gave_up_is_left_to_the_alert_not_to_readiness(settings):
    """docs/operations.md: a failed outbox row needs a person (the OutboxFailed alert); it does
    not make the system unready."""
    settings.HEALTH_OUTBOX_MAX_AGE_SECONDS = 900
    _outbox_row(OutboxStatus.FAILED, created=5000)
    assert outcome("outbox").ok


@pytest.mark.django_db
def test_the_health_command_exits_non_zero_naming_what_fails(capsys):
    with pytest.raises(CommandError, match="failing: beat"):
        call_command("health", "beat")
    heartbeat_record(component=BEAT)
    call_command("health", "beat")
    assert "beat: ok" in capsys.readouterr().out


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.celery_worker
def test_ready_with_a_real_beat_and_worker_and_each_failure_named_when_it_stops(
    client, settings, celery_worker_process, tmp_path
):
    """A real beat sends the heartbeat task, a real worker runs it; readiness is green. Beat
    stopped: beat is named once its tick is older than the threshold; the worker stopped too: the
    worker is named (no answer to the ping)."""
    settings.HEALTH_BEAT_MAX_AGE_SECONDS = 4
    PollState.objects.create(name="events", last_success_at=timezone.now(), last_attempt_at=timezone.now())
    beat = beat_start(folder=tmp_path, env={"HEALTH_HEARTBEAT_SECONDS": "1", "JLIS_POLL_SECONDS": "3600"})
    last: dict[str, object] = {}
    try:

        def ready() -> bool:
            response = client.get("/healthz/ready")
            last.update(response.json())
            return response.status_code == 200

        try:
            wait_until(ready, 120, "readiness with a real beat and worker")
        except pytest.fail.Exception:
            pytest.fail(f"never ready; the last answer: {last}; beat's log: {beat.log.read_text()[-1500:]}")
        assert set(client.get("/healthz/ready").json()["checks"]) == {
            "database", "redis", "worker", "beat", "jlis_poll", "outbox",
        }  # fmt: skip
    finally:
        beat.stop()

    def beat_named() -> bool:
        checks = client.get("/healthz/ready").json()["checks"]
        return not checks["beat"]["ok"] and checks["worker"]["ok"]

    wait_until(beat_named, 30, "beat to be named failing")
    celery_worker_process.stop()
    checks = client.get("/healthz/ready").json()["checks"]
    assert checks["worker"]["ok"] is False
    assert "unavailable" in checks["worker"]["detail"].lower()


@pytest.mark.redis
def test_the_redis_check_answers_in_a_thread_that_runs_an_event_loop():
    """The test run's browser driver leaves an event loop running in the main thread; a web server
    may too. The check must not need one of its own."""
    import asyncio
    import threading

    async def inside_a_loop():
        return checks_run(["redis"])

    # A thread of its own: the main thread may already run the browser driver's loop, and
    # asyncio.run refuses to start a second one there.
    results: list = []
    thread = threading.Thread(target=lambda: results.extend(asyncio.run(inside_a_loop())))
    thread.start()
    thread.join(30)
    (result,) = results
    assert result.ok, result.detail


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.celery_worker
def test_a_beat_just_started_polls_j_lis_at_once_so_readiness_does_not_wait_a_whole_interval(
    client, celery_worker_process, tmp_path
):
    """`make run` then /healthz/ready: J-LIS was never polled, and beat's first poll was one
    JLIS_POLL_SECONDS away (180 s by default), so readiness said the poll was failing ("never")
    though no poll was due yet. Beat polls once as it starts: with an interval of an hour the
    poll check turns ok as soon as that first poll has run."""
    assert not outcome("jlis_poll").ok  # never polled
    beat = beat_start(folder=tmp_path, env={"HEALTH_HEARTBEAT_SECONDS": "1", "JLIS_POLL_SECONDS": "3600"})
    last: dict[str, object] = {}
    try:

        def polled() -> bool:
            last.update(client.get("/healthz/ready").json()["checks"]["jlis_poll"])
            return last["ok"] is True

        try:
            wait_until(polled, 60, "the poll check to turn ok after beat started")
        except pytest.fail.Exception:
            pytest.fail(f"the poll check stayed {last}; beat's log: {beat.log.read_text()[-1500:]}")
    finally:
        beat.stop()
