"""Celery tasks of the consents app: thin, each calls one service."""

from __future__ import annotations

from pathlib import Path

from celery import shared_task

from consents.jpki.crl import crl_import
from onestop.celery import RETRY_ON_DATABASE_LOSS

from .services import consent_expire_due


@shared_task
def crl_import_file(path: str) -> int:
    """Import the CRL at `path` (DER); returns the CrlImport id. A refused CRL fails the task."""
    return crl_import(der=Path(path).read_bytes(), actor_label="celery:crl_import_file").pk


@shared_task(name="consents.demo_crl_refresh", **RETRY_ON_DATABASE_LOSS)
def demo_crl_refresh_task() -> int:
    """Demo mode (beat): keep the JPKI-TEST CA's CRL current, as the daily J-LIS import would."""
    from consents.jpki.democard import demo_crl_refresh  # demo-only: production never loads test keys

    return demo_crl_refresh(actor_label="celery:demo_crl_refresh").pk


@shared_task(name="consents.expire_due", **RETRY_ON_DATABASE_LOSS)
def consent_expire_due_task() -> int:
    """Daily (beat): active consents past their last valid day become expired."""
    return consent_expire_due()
