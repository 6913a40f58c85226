"""Celery tasks of the gateway: thin, each calls one service and owns only its retry policy."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, current_app, shared_task
from kombu.exceptions import OperationalError as BrokerUnavailable

from onestop.celery import RETRY_ON_DATABASE_LOSS
from onestop.metrics import metric_increment

from .services.poll import events_poll
from .services.relay import outbox_send, outbox_sweep

logger = logging.getLogger(__name__)

# The applier's task, which takes the stored events (docs/jlis-protocol.md). Named, not imported:
# the applier sits above the gateway.
EVENTS_APPLY_TASK = "applier.events_apply"


def _follow_up(task: Task | str, *args: Any, **options: Any) -> None:
    """Queue the next step (a task of ours, or another app's by name). Its work is already in the
    database: if the broker is unreachable, beat's periodic task (poll, apply sweep, outbox sweep)
    takes it up instead, so the task that did its part does not fail for it."""
    name = task if isinstance(task, str) else task.name
    try:
        if isinstance(task, str):
            current_app.send_task(task, args, **options)
        else:
            task.apply_async(args, **options)
    except BrokerUnavailable as exc:
        logger.warning("%s not queued (%s): beat's periodic run takes it up", name, type(exc).__name__)


@shared_task(name="jlis_gateway.poll_events", **RETRY_ON_DATABASE_LOSS)
def poll_events() -> None:
    """Beat runs this every JLIS_POLL_SECONDS; the monitor's "poll now" queues it too."""
    result = events_poll()
    metric_increment("onestop_jlis_polls_total", result=result.status)
    metric_increment("onestop_jlis_events_stored_total", result.stored)
    metric_increment("onestop_jlis_events_quarantined_total", result.quarantined)
    if result.stored:
        # The hand-off (docs/jlis-protocol.md): the applier takes stored events.
        _follow_up(EVENTS_APPLY_TASK)
    if result.has_more:
        _follow_up(poll_events)


@shared_task(name="jlis_gateway.outbox_send", **RETRY_ON_DATABASE_LOSS)
def outbox_send_task(message_id: int) -> None:
    """Queued when the change that wrote the row commits (jlis_gateway.outbox.outbox_enqueue)."""
    result = outbox_send(message_id=message_id)
    if result.retry_at is not None:
        _follow_up(outbox_send_task, message_id, eta=result.retry_at)


@shared_task(name="jlis_gateway.outbox_sweep", **RETRY_ON_DATABASE_LOSS)
def outbox_sweep_task() -> None:
    """Beat runs this every JLIS_OUTBOX_SWEEP_SECONDS: reclaims stuck rows, sends due ones."""
    if outbox_sweep()["more"]:
        _follow_up(outbox_sweep_task)
