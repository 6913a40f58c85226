"""Celery tasks of driver_records: thin, they call the applier."""

from celery import shared_task

from .applier import events_apply_pending


@shared_task(name="driver_records.events_apply", acks_late=True, soft_time_limit=600, time_limit=660)
def events_apply() -> dict[str, int]:
    """Apply pending J-LIS events. Safe to run twice: events are claimed row by row."""
    result = events_apply_pending()
    return {"applied": result.applied, "skipped": result.skipped, "waiting": result.waiting}
