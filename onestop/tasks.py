"""Celery tasks of the project package: thin, each calls one function."""

from __future__ import annotations

from celery import shared_task

from .celery import RETRY_ON_DATABASE_LOSS
from .idempotency import idempotency_purge


@shared_task(name="onestop.idempotency_purge", **RETRY_ON_DATABASE_LOSS)
def idempotency_purge_task() -> int:
    """Daily (beat): forget the answers kept for idempotent POSTs."""
    return idempotency_purge()
