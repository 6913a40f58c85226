"""Loading what the decision needs for many events at once: a few queries per batch."""

from __future__ import annotations

from collections.abc import Iterable

from consents.models import Consent, ConsentStatus

from ..models import DriverRecord, RecordChange
from .decide import ConsentView, RecordState

RECORD_FIELDS = (
    "id", "number", "holding_status", "cert_serial", "cert_not_after", "jlis_seq", "feed_stopped_at",
    "name", "address", "birth_date", "version",
)  # fmt: skip


def lock_records_by_serial(serials: Iterable[str]) -> dict[str, RecordState]:
    """The records linked to these serials, locked in id order (every writer's order)."""
    rows = (
        DriverRecord.objects.select_for_update()
        .filter(cert_serial__in=set(serials))
        .exclude(cert_serial="")
        .order_by("pk")
        .values(*RECORD_FIELDS)
    )
    return {row["cert_serial"]: RecordState(**row) for row in rows}


def serials_seen_before(serials: Iterable[str]) -> set[str]:
    """Serials some record was linked to once: an event about one of them is an old event."""
    return set(
        RecordChange.objects.filter(field="cert_serial", old_value__in=set(serials)).values_list("old_value", flat=True)
    )


def consents_for(record_ids: Iterable[int]) -> dict[int, ConsentView]:
    """Each record's consent that governs the feed: the active one, else its latest."""
    chosen: dict[int, Consent] = {}
    rows = (
        Consent.objects.filter(record_id__in=set(record_ids))
        .exclude(status__in=[ConsentStatus.PENDING, ConsentStatus.REJECTED, ConsentStatus.SUPERSEDED])
        .only("record_id", "status", "items", "last_valid_day", "created_at")
        .order_by("record_id", "-created_at", "-id")
    )
    for consent in rows:
        current = chosen.get(consent.record_id)
        if current is None or (consent.status == ConsentStatus.ACTIVE and current.status != ConsentStatus.ACTIVE):
            chosen[consent.record_id] = consent
    return {
        record_id: ConsentView(c.status, frozenset(c.items), c.last_valid_day, c.created_at)
        for record_id, c in chosen.items()
    }
