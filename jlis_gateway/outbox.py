"""Writing to the outbox: the one way a change asks for a call to J-LIS."""

from __future__ import annotations

import uuid
from functools import partial
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from .models import OutboxKind, OutboxMessage, OutboxStatus

if TYPE_CHECKING:  # consents sits above the gateway: a type only, never imported at run time
    from consents.models import Consent


def outbox_enqueue(*, kind: OutboxKind, consent: Consent) -> OutboxMessage:
    """Queue a call to J-LIS inside the caller's transaction, so it exists iff the change does.

    The row holds no copy of the consent's data: the relay builds the request from the consent
    when it sends, so erasing a consent (R15) leaves nothing behind here.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox rows must be written inside the transaction of their change")
    now = timezone.now()
    message = OutboxMessage.objects.create(
        kind=kind, consent=consent, idempotency_key=uuid.uuid4().hex, next_attempt_at=now, created_at=now
    )
    outbox_send_after_commit(message.pk)
    return message


def outbox_submissions_withdraw(*, consent: Consent, reason: str) -> int:
    """The consent's submissions the relay has never tried are never sent: they fail with
    `reason`. A row claimed now, or once (waiting to be sent again after a timeout or a lost
    answer), is left alone: it may be at J-LIS already, and sending it again with its key is how
    we learn J-LIS's id for the consent, to end it there (a conditional UPDATE, so a claim and
    this never both win the same row). Inside the caller's transaction; how many."""
    with transaction.atomic(savepoint=False):
        submissions = OutboxMessage.objects.filter(
            consent=consent, kind=OutboxKind.SUBMIT_CONSENT, status=OutboxStatus.PENDING, attempts=0
        )
        return submissions.update(status=OutboxStatus.FAILED, last_error=reason)


def outbox_send_after_commit(message_id: int) -> None:
    """Send the row as soon as the caller's transaction commits; if the broker is down then,
    beat's sweep sends it later."""
    transaction.on_commit(partial(_send_soon, message_id), robust=True)


def _send_soon(message_id: int) -> None:
    from .tasks import outbox_send_task  # tasks import the services, which import this module's users

    outbox_send_task.delay(message_id)
