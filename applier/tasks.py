"""Celery tasks of the applier: thin, they call the batch path."""

from celery import shared_task

from onestop.celery import RETRY_ON_DATABASE_LOSS
from onestop.metrics import metric_increment

from .batch import events_apply_pending


@shared_task(name="applier.events_apply", acks_late=True, soft_time_limit=600, time_limit=660, **RETRY_ON_DATABASE_LOSS)
def events_apply() -> dict[str, int]:
    """Apply pending J-LIS events. Safe to run twice: events are claimed row by row, and a batch
    cut short (worker killed, connection lost) was rolled back and is applied again."""
    result = events_apply_pending()
    metric_increment("onestop_jlis_events_processed_total", result.applied, outcome="applied", reason="")
    for reason, count in result.skipped_by_reason.items():
        metric_increment("onestop_jlis_events_processed_total", count, outcome="skipped", reason=reason)
    return {"applied": result.applied, "skipped": result.skipped, "waiting": result.waiting}
