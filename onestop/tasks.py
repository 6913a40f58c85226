"""Celery tasks of the project package: thin, each calls one function."""

from __future__ import annotations

from celery import shared_task

from .audit_chain import audit_chain_link
from .audit_checkpoints import audit_checkpoint_write
from .celery import RETRY_ON_DATABASE_LOSS
from .staff_sessions import sessions_expired_clear


@shared_task(name="onestop.audit_checkpoint", **RETRY_ON_DATABASE_LOSS)
def audit_checkpoint_task() -> int | None:
    """Every AUDIT_CHECKPOINT_SECONDS (beat): sign the audit chain's head, outside the database."""
    checkpoint = audit_checkpoint_write()
    return checkpoint.seq if checkpoint else None


@shared_task(name="onestop.audit_chain_link", **RETRY_ON_DATABASE_LOSS)
def audit_chain_link_task() -> int:
    """After audited commits (onestop.audit_chain.QueueWindow), and every AUDIT_CHAIN_SWEEP_SECONDS
    (beat): link the committed audit rows into the chain."""
    return audit_chain_link()


@shared_task(name="onestop.sessions_expired_clear", **RETRY_ON_DATABASE_LOSS)
def sessions_expired_clear_task() -> int:
    """Every SESSION_CLEAR_SECONDS (beat): delete the sessions past their idle timeout, with the
    holder searches they keep."""
    return sessions_expired_clear()
