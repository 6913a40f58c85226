"""Erasing what J-LIS's stored events say about one holder (R15: a confirmed suspension, for
which safeguards.services.erasure decides what is kept). Inside the caller's transaction, on
events it has locked."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from ..models import EventStatus, JlisEvent


@dataclass(frozen=True)
class EventsErased:
    payloads: int  # events whose payload lost something
    skipped: int  # events that were waiting and will never be applied


def jlis_events_erase(
    *, events: Iterable[JlisEvent], payload_kept: frozenset[str], skip_reason: str, at: datetime
) -> EventsErased:
    """Each event keeps only the payload keys in `payload_kept`; one still waiting is skipped
    with `skip_reason` (the service is stopped: nothing waiting for the holder is applied)."""
    erased = skipped = 0
    with transaction.atomic(savepoint=False):
        for event in events:
            fields = []
            kept = {k: v for k, v in event.payload.items() if k in payload_kept}
            if kept != event.payload:
                event.payload = kept
                fields.append("payload")
                erased += 1
            if event.status == EventStatus.PENDING:
                event.status, event.reason, event.processed_at = EventStatus.SKIPPED, skip_reason, at
                fields += ["status", "reason", "processed_at"]
                skipped += 1
            if fields:
                event.save(update_fields=fields)
    return EventsErased(erased, skipped)
