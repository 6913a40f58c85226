"""Having J-LIS serve a quarantined event again, once it has corrected it.

A quarantined event keeps no values (R2, R15), only what it takes to find it again: the
cursor it came after, its id, the failing paths and a hash of its body. The operator asks
J-LIS's desk to correct the event (quoting the id and hash), then runs
`manage.py jlis_refetch <id>`: the page after that cursor is read again, and the event, if it
now reads, is stored like any other (the applier takes it in its holder's order). The feed's
cursor does not move.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from onestop.audit import AuditEntry, audit_log
from onestop.audit_actions import AuditAction
from onestop.clock import japan_date

from ..client import JlisClient
from ..models import JlisEvent, QuarantinedEvent
from .door import events_at_the_door
from .poll import event_identity, event_row, events_insert

ACTOR = "jlis_refetch"


@dataclass
class RefetchResult:
    outcome: str  # stored | already_stored | still_malformed | conflicting | not_served | no_id | resolved_before
    reason: str = ""
    paths: list[str] = field(default_factory=list)


def quarantined_refetch(*, quarantined_id: int, client: JlisClient | None = None) -> RefetchResult:
    """Read the quarantined event's page again and keep the event if J-LIS now serves it readable."""
    quarantined = QuarantinedEvent.objects.get(pk=quarantined_id)
    if quarantined.resolved_at is not None:
        return RefetchResult("resolved_before")
    if not quarantined.event_id:
        return RefetchResult("no_id")
    client = client or JlisClient.from_settings()
    page = client.events_page(after=quarantined.cursor, limit=settings.JLIS_PAGE_SIZE)  # outside any transaction
    served = next((e for e in page.events if e.id == quarantined.event_id), None)
    if served is None:
        bad = next((b for b in page.invalid if b.event_id == quarantined.event_id), None)
        if bad is None:
            return RefetchResult("not_served")
        return RefetchResult("still_malformed", reason=bad.reason, paths=bad.paths)
    with transaction.atomic(durable=True):
        row = QuarantinedEvent.objects.select_for_update().get(pk=quarantined.pk)
        if row.resolved_at is not None:
            return RefetchResult("resolved_before")
        stored = (
            JlisEvent.objects.filter(event_id=served.id)
            .values_list("kind", "holder_seq", "serial", "jlis_consent_id")
            .first()
        )
        if stored is not None and tuple(stored) != event_identity(served):
            return RefetchResult("conflicting", reason=row.reason, paths=row.paths)
        now = timezone.now()
        if stored is None:
            [kept] = events_at_the_door([served], today=japan_date(now))  # R2, as the poller
            events_insert([event_row(kept, now)])
        row.resolved_at = now
        row.save(update_fields=["resolved_at"])
        outcome = "stored" if stored is None else "already_stored"
        audit_log(
            AuditEntry(
                action=AuditAction.JLIS_EVENT_REFETCH,
                subject_type="quarantined_event",
                subject_id=str(row.pk),
                actor_label=ACTOR,
                serial=served.serial,
                new_values={"event_id": served.id, "outcome": outcome},
            )
        )
    return RefetchResult(outcome)
