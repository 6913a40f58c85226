"""Celery tasks of operations: thin."""

from celery import shared_task

from onestop.celery import RETRY_ON_DATABASE_LOSS

from .retention import retention_enforce
from .services import WORKER, heartbeat_record


@shared_task(name="operations.heartbeat", ignore_result=True, expires=120)
def heartbeat() -> None:
    """Beat sends this every HEALTH_HEARTBEAT_SECONDS: a worker running it proves that beat, the
    broker and a worker all work. It expires rather than piling up while no worker runs."""
    heartbeat_record(component=WORKER)


@shared_task(name="operations.retention", soft_time_limit=3000, time_limit=3300, **RETRY_ON_DATABASE_LOSS)
def retention() -> dict[str, int]:
    """Daily at 03:30 JST (beat): delete what is kept no longer (operations.retention). Safe to
    run twice: a second run finds less or nothing to delete. Each batch commits on its own, so
    a run cut short keeps what it did and the next run goes on."""
    return retention_enforce()
