"""Celery tasks of operations: thin."""

from celery import shared_task

from .services import WORKER, heartbeat_record


@shared_task(name="operations.heartbeat", ignore_result=True, expires=120)
def heartbeat() -> None:
    """Beat sends this every HEALTH_HEARTBEAT_SECONDS: a worker running it proves that beat, the
    broker and a worker all work. It expires rather than piling up while no worker runs."""
    heartbeat_record(component=WORKER)
