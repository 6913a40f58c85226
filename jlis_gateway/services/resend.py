"""Put a message the relay gave up on back in the outbox: the gateway's half of a resend.

The relay gives a row up after its last attempt failed for a reason that may pass (J-LIS did
not answer, 5xx, a timeout). Once J-LIS is back, the row may be sent again with the same
idempotency key, so J-LIS acts at most once whatever the earlier attempts did. A row J-LIS
refused is not sent again: the same request would be refused the same way. Who may ask for it,
and whether the consent still wants it sent, is the consents app's (consents/services/resend.py).
"""

from __future__ import annotations

from django.utils import timezone

from ..models import OutboxMessage, OutboxStatus
from ..outbox import outbox_send_after_commit
from .relay import GAVE_UP, gave_up


def outbox_resend_refusal(message: OutboxMessage) -> str | None:
    """Why the gateway would not send this row again ("not_given_up", "refused"), or None."""
    if message.status != OutboxStatus.FAILED:
        return "not_given_up"
    if not gave_up(message):
        return "refused"
    return None


def outbox_message_resend(*, message_id: int) -> bool:
    """Put one given-up row back: due now, its attempts counted afresh, its key kept; it is sent
    when the caller's transaction commits. One conditional UPDATE (only a row the relay gave up
    on moves), so a second call does nothing: True when this call moved it."""
    reset = OutboxMessage.objects.filter(
        pk=message_id, status=OutboxStatus.FAILED, last_error__startswith=GAVE_UP + " "
    ).update(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=timezone.now(), claimed_at=None, last_error="")
    if reset == 1:
        outbox_send_after_commit(message_id)
    return reset == 1
