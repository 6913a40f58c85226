"""Celery tasks of the applier: thin, they call the batch path."""

import logging

from celery import shared_task
from django.conf import settings
from kombu.exceptions import OperationalError as BrokerUnavailable

from jlis_gateway.inbox import events_pending_count
from onestop.celery import RETRY_ON_DATABASE_LOSS
from onestop.metrics import metric_increment

from .batch import events_apply_pending

logger = logging.getLogger(__name__)

# Follow-ups in a row that found nothing to apply: after this many beat's sweep takes over. Their
# countdowns double (JLIS_APPLY_FOLLOW_UP_SECONDS, 2x, 4x ...: about five minutes in all).
FOLLOW_UPS_IDLE_MAX = 5


@shared_task(name="applier.events_apply", acks_late=True, soft_time_limit=600, time_limit=660, **RETRY_ON_DATABASE_LOSS)
def events_apply(idle: int = 0) -> dict[str, int]:
    """Apply pending J-LIS events. Safe to run twice: events are claimed row by row, and a batch
    cut short (worker killed, connection lost) was rolled back and is applied again. `idle`: how
    many follow-ups before this one in a row applied and skipped nothing."""
    result = events_apply_pending()
    metric_increment("onestop_jlis_events_processed_total", result.applied, outcome="applied", reason="")
    for reason, count in result.skipped_by_reason.items():
        metric_increment("onestop_jlis_events_processed_total", count, outcome="skipped", reason=reason)
    if events_pending_count() > result.waiting:
        idle = 0 if result.applied or result.skipped else idle + 1
        if idle <= FOLLOW_UPS_IDLE_MAX:
            _follow_up(idle)
        else:
            logger.info("applier: %d follow-ups found nothing to apply; beat's apply sweep takes over", idle - 1)
    return {"applied": result.applied, "skipped": result.skipped, "waiting": result.waiting, "held": result.held}


def _follow_up(idle: int) -> None:
    """Pending events this run neither applied, skipped nor left waiting were held by another
    session, or their records were (claims and record locks skip locked rows): a run alongside,
    a clerk's change of the record, or the batch of a pool process that was killed, whose
    session lives on until PostgreSQL notices its client is gone. Nothing else would queue a run
    for them before beat's sweep (docs/reliability.md), so this run queues one. A run alongside
    that is alive queues its own: while follow-ups find nothing to do, each waits twice as long
    as the one before (several workers each seeing the others' claims would otherwise queue each
    other for ever while events wait)."""
    try:
        events_apply.apply_async((idle,), countdown=settings.JLIS_APPLY_FOLLOW_UP_SECONDS * 2**idle)
    except BrokerUnavailable as exc:
        logger.warning("applier.events_apply not queued (%s): beat's apply sweep takes it up", type(exc).__name__)
