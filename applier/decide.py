"""What a "latest information" event does to a record: a pure decision, shared by the batch and
the per-event paths so they cannot disagree (R2, R10-R13)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from consents.models import ConsentStatus
from driver_records.models import CARD_ONLY_STATUSES

ITEM_FIELDS = ("name", "address", "birth_date")


class Skip:
    """Why an event was not applied (kept on the event; the holder page explains each)."""

    UNKNOWN_SERIAL = "unknown_serial"
    STALE = "stale"
    NO_ACTIVE_CONSENT = "no_active_consent"
    CONSENT_REVOKED = "consent_revoked"
    CONSENT_EXPIRED = "consent_expired"
    CONSENT_SUSPENDED = "consent_suspended"
    NOT_ELIGIBLE = "not_eligible"
    FEED_STOPPED = "feed_stopped_holding_status"
    CERTIFICATE_EXPIRED = "certificate_expired"


@dataclass
class RecordState:
    """The part of a record the decision reads, updated in memory as a batch goes on (its fields
    are driver_records.bulk.RECORD_FIELDS, in that order: the locked reads return rows so)."""

    id: int
    number: str
    holding_status: str
    cert_serial: str
    cert_not_after: datetime | None
    cert_seq: int
    jlis_seq: int
    feed_stopped_at: datetime | None
    name: str
    address: str
    birth_date: date
    version: int


@dataclass(frozen=True)
class ConsentView:
    status: str
    items: frozenset[str]
    last_valid_day: date | None
    created_at: datetime


@dataclass(frozen=True)
class EventView:
    event_id: str
    holder_seq: int
    serial: str
    occurred_at: datetime
    payload: dict[str, Any]


@dataclass
class Decision:
    skip: str = ""
    changes: dict[str, Any] = field(default_factory=dict)  # field -> new value (items only)
    new_serial: str = ""
    new_not_after: datetime | None = None
    dropped_items: tuple[str, ...] = ()  # sent by J-LIS but not consented: never applied or kept


def _consent_skip(consent: ConsentView | None, today: date) -> str:
    if consent is None:
        return Skip.NO_ACTIVE_CONSENT
    if consent.status == ConsentStatus.ACTIVE:
        if consent.last_valid_day is not None and consent.last_valid_day < today:
            return Skip.CONSENT_EXPIRED
        return ""
    skips: dict[str, str] = {
        ConsentStatus.REVOKED: Skip.CONSENT_REVOKED,
        ConsentStatus.EXPIRED: Skip.CONSENT_EXPIRED,
        ConsentStatus.SUSPENDED: Skip.CONSENT_SUSPENDED,
    }
    return skips.get(consent.status, Skip.NO_ACTIVE_CONSENT)


def parse_item(name: str, value: str) -> Any:
    return date.fromisoformat(value) if name == "birth_date" else value


def decide_latest_info(
    event: EventView, record: RecordState | None, consent: ConsentView | None, today: date
) -> Decision:
    """Apply only to a card-only holder with an active, unexpired consent, only its items.

    Whatever the outcome, items the holder did not consent to are dropped from what we keep (R2).
    """
    sent = [item for item in ITEM_FIELDS if item in event.payload]
    consented = consent.items if consent is not None and record is not None else frozenset()
    dropped = tuple(item for item in sent if item not in consented)
    if record is None:
        return Decision(skip=Skip.UNKNOWN_SERIAL, dropped_items=dropped)  # no record is or was linked to it
    if event.holder_seq <= record.jlis_seq:
        return Decision(skip=Skip.STALE, dropped_items=dropped)  # never overwrite newer data
    if reason := _consent_skip(consent, today):
        return Decision(skip=reason, dropped_items=tuple(sent))  # nothing was consented in force
    assert consent is not None
    if record.holding_status not in CARD_ONLY_STATUSES:
        return Decision(skip=Skip.NOT_ELIGIBLE, dropped_items=dropped)  # R12
    if record.feed_stopped_at is not None and consent.created_at <= record.feed_stopped_at:
        return Decision(skip=Skip.FEED_STOPPED, dropped_items=dropped)  # R12: until a new registration
    not_after = record.cert_not_after if event.serial == record.cert_serial else None  # of the serial it names
    if not_after is not None and not_after < event.occurred_at:
        return Decision(skip=Skip.CERTIFICATE_EXPIRED, dropped_items=dropped)  # R11: J-LIS gives nothing
    changes = {}
    for item in sent:
        if item in consented:
            value = parse_item(item, event.payload[item])
            if getattr(record, item) != value:
                changes[item] = value
    return Decision(
        changes=changes,
        new_serial=event.payload["new_serial"],
        new_not_after=datetime.fromisoformat(event.payload["not_after"]),
        dropped_items=dropped,
    )
