"""Celery tasks of the gateway: thin, each calls one service and owns only its retry policy."""

from __future__ import annotations

from celery import shared_task

from driver_records.tasks import events_apply

from .services.poll import events_poll
from .services.relay import outbox_send, outbox_sweep


@shared_task(name="jlis_gateway.poll_events")
def poll_events() -> None:
    """Beat runs this every JLIS_POLL_SECONDS; the monitor's "poll now" queues it too."""
    result = events_poll()
    if result.stored:
        # The hand-off (docs/jlis-protocol.md): the driver-records applier takes stored events.
        events_apply.delay()
    if result.has_more:
        poll_events.delay()


@shared_task(name="jlis_gateway.outbox_send")
def outbox_send_task(message_id: int) -> None:
    """Queued when the change that wrote the row commits (jlis_gateway.outbox.outbox_enqueue)."""
    result = outbox_send(message_id=message_id)
    if result.retry_at is not None:
        outbox_send_task.apply_async((message_id,), eta=result.retry_at)


@shared_task(name="jlis_gateway.outbox_sweep")
def outbox_sweep_task() -> None:
    """Beat runs this every JLIS_OUTBOX_SWEEP_SECONDS: reclaims stuck rows, sends due ones."""
    if outbox_sweep()["more"]:
        outbox_sweep_task.delay()
