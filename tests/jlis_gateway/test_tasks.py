"""The gateway's tasks on a real Celery worker on Redis, against the simulator over HTTP."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.utils import timezone

from jlis_gateway.models import JlisEvent, PollState, QuarantinedEvent
from jlis_gateway.tasks import poll_events
from onestop.celery import app
from tests.jlis_fixtures import wait_until


def test_beat_polls_every_jlis_poll_seconds_and_sweeps_the_outbox():
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["jlis-poll"] == {"task": "jlis_gateway.poll_events", "schedule": float(settings.JLIS_POLL_SECONDS)}
    assert schedule["jlis-outbox-sweep"]["task"] == "jlis_gateway.outbox_sweep"
    assert "consents-expire-due" in schedule  # the other apps' periodic tasks are kept
    app.loader.import_default_modules()
    assert {"jlis_gateway.poll_events", "jlis_gateway.outbox_sweep", "jlis_gateway.outbox_send"} <= set(app.tasks)


@pytest.mark.celery_worker
@pytest.mark.faults
def test_polls_on_a_real_worker_store_each_event_once_under_faults(celery_worker_process, jlis_simulator):
    jlis_simulator.generate(count=400, holders=40)
    for kind, probability in [("duplicate", 0.5), ("out_of_order", 0.5), ("error_5xx", 0.2), ("malformed_event", 0.2)]:
        jlis_simulator.fault(kind, probability=probability)
    everything = set(jlis_simulator.events()["ids"])

    def caught_up() -> bool:
        kept = JlisEvent.objects.count() + QuarantinedEvent.objects.count()
        if kept < len(everything):
            poll_events.delay()  # as beat would, while an earlier poll may still be running
        return kept == len(everything)

    poll_events.delay()
    poll_events.delay()  # two at once: one gives up, the other reads
    wait_until(caught_up, 120, f"the worker to keep {len(everything)} events ({celery_worker_process.log})")
    corrupt = set(jlis_simulator.events()["corrupt"])
    stored = list(JlisEvent.objects.values_list("event_id", flat=True))
    assert len(stored) == len(set(stored))
    assert set(stored) == everything - corrupt
    assert set(QuarantinedEvent.objects.values_list("event_id", flat=True)) == corrupt
    wait_until(lambda: PollState.objects.filter(claim_token="").exists(), 60, "the last poll to finish")
    assert PollState.objects.get().last_success_at is not None


@pytest.mark.celery_worker
def test_a_row_is_sent_by_the_worker_once_its_change_commits(celery_worker_process, jlis_simulator, signed_consent):
    from django.db import transaction

    from jlis_gateway.models import OutboxKind, OutboxMessage, OutboxStatus
    from jlis_gateway.outbox import outbox_enqueue

    consent = signed_consent()
    with transaction.atomic():
        message = outbox_enqueue(kind=OutboxKind.SUBMIT_CONSENT, consent=consent)
    wait_until(
        lambda: OutboxMessage.objects.get(pk=message.pk).status == OutboxStatus.SENT,
        60,
        f"the worker to send the row ({celery_worker_process.log})",
    )
    consent.refresh_from_db()
    assert consent.jlis_consent_id == OutboxMessage.objects.get(pk=message.pk).response["consent_id"]


@pytest.mark.celery_worker
@pytest.mark.faults
def test_the_relay_running_twice_at_once_sends_each_row_exactly_once(
    celery_worker_process, jlis_simulator, signed_consent
):
    import threading

    from django.db import connection, transaction

    from jlis_gateway.models import OutboxKind, OutboxMessage, OutboxStatus
    from jlis_gateway.services.relay import outbox_sweep
    from jlis_gateway.tasks import outbox_sweep_task

    consents = [signed_consent() for _ in range(30)]
    with transaction.atomic():
        # Written due but held back from the after-commit path, so that the sweeps race for them.
        rows = [
            OutboxMessage.objects.create(
                kind=OutboxKind.SUBMIT_CONSENT,
                consent=c,
                idempotency_key=f"k{c.pk}",
                next_attempt_at=timezone.now(),
                created_at=timezone.now(),
            )
            for c in consents
        ]
    jlis_simulator.fault("delay", target="submit", probability=1.0, delay=0.2)  # so the three sweeps overlap
    outbox_sweep_task.delay()
    outbox_sweep_task.delay()
    counts: dict[str, int] = {}

    def sweep_here() -> None:
        try:
            counts.update(outbox_sweep())
        finally:
            connection.close()

    here = threading.Thread(target=sweep_here)
    here.start()
    here.join()
    wait_until(
        lambda: OutboxMessage.objects.filter(status=OutboxStatus.SENT).count() == len(rows),
        90,
        f"every row to be sent ({celery_worker_process.log})",
    )
    received = {r["key"]: r["received"] for r in jlis_simulator.requests()}
    assert received == {row.idempotency_key: 1 for row in rows}  # each row reached J-LIS exactly once
    assert jlis_simulator.state()["consents"] == {"pending": len(rows)}
    assert OutboxMessage.objects.filter(attempts=1).count() == len(rows)
    assert counts.get("not_claimed", 0) > 0  # the race did happen: this sweep lost rows to the others


@pytest.mark.django_db
def test_a_poll_that_stored_events_hands_them_to_the_applier_by_a_registered_task_name(jlis_simulator, monkeypatch):
    """The gateway does not import the applier (issue 21): it queues the applier's task by name,
    so the name must be one the worker knows. The broker is the unit's edge here."""
    from jlis_gateway.tasks import EVENTS_APPLY_TASK

    jlis_simulator.generate(count=5, holders=2)
    sent: list[tuple[str, tuple]] = []
    monkeypatch.setattr(app, "send_task", lambda name, args=(), **options: sent.append((name, tuple(args))))
    poll_events()
    assert sent == [(EVENTS_APPLY_TASK, ())]
    app.loader.import_default_modules()
    assert EVENTS_APPLY_TASK in app.tasks


@pytest.mark.django_db
def test_a_poll_hands_on_even_when_the_broker_is_down(jlis_simulator, monkeypatch):
    """Stored is stored: the applier's periodic sweep takes the events up, the poll does not fail."""
    from kombu.exceptions import OperationalError

    def broker_down(*args, **options):
        raise OperationalError("connection refused")

    jlis_simulator.generate(count=5, holders=2)
    monkeypatch.setattr(app, "send_task", broker_down)
    poll_events()
    assert JlisEvent.objects.count() == 5
