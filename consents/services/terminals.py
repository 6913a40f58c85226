"""Counter terminals: created with a token shown once and kept only as its SHA-256."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from onestop.audit import AuditEntry, audit_log
from onestop.audit_actions import AuditAction
from onestop.models import Office, User
from onestop.validators import contains_my_number, my_number_refusal

from ..models import CounterTerminal

TOKEN_PREFIX = "ost_"  # noqa: S105 (marks a token as ours; not a secret)


def terminal_token_hash(token: str) -> str:
    # The token has 256 random bits: a plain SHA-256 is enough, no slow password hash needed.
    return hashlib.sha256(token.encode()).hexdigest()


def terminal_create(*, name: str, office: Office, actor: User | None) -> tuple[CounterTerminal, str]:
    """A terminal for an office's counter, and its token (returned once, never stored)."""
    if contains_my_number(name):  # R14: the name is typed, and reaches the append-only audit trail
        raise ValueError(my_number_refusal(_("Terminal name")))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic(durable=True):
        terminal = CounterTerminal.objects.create(
            name=name,
            office=office,
            token_prefix=token[:10],
            token_hash=terminal_token_hash(token),
            created_at=timezone.now(),
            created_by=actor,
        )
        audit_log(
            AuditEntry(
                action=AuditAction.TERMINAL_CREATE,
                subject_type="counter_terminal",
                subject_id=str(terminal.pk),
                actor=actor,
                actor_label="" if actor else "system",
                office=office,
                new_values={"name": name, "office": office.code, "token_prefix": terminal.token_prefix},
            )
        )
    return terminal, token


def terminal_revoke(*, terminal_id: int, actor: User | None) -> None:
    with transaction.atomic(durable=True):
        now = timezone.now()
        if CounterTerminal.objects.filter(pk=terminal_id, revoked_at__isnull=True).update(revoked_at=now) != 1:
            return
        audit_log(
            AuditEntry(
                action=AuditAction.TERMINAL_REVOKE,
                subject_type="counter_terminal",
                subject_id=str(terminal_id),
                actor=actor,
                actor_label="" if actor else "system",
                new_values={"revoked_at": now},
            )
        )
