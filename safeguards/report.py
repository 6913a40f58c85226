"""The answer to a disclosure request (R16): everything the service holds about one holder, and
nothing about anyone else. Every row below is chosen by the holder's record or by their keys
(certificate serials and J-LIS consent ids, see selectors.holder_keys)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Field
from django.utils import timezone
from django.utils.translation import gettext as _

from consents.feed import Feed, record_feed, skip_reason_text
from consents.models import Consent, ConsentItem, ConsentStatement, MynaportalLink
from consents.selectors import consents_of_record, items_label, mynaportal_link_of_record, statements_without_consent
from driver_records.models import DriverRecord, RecordChange
from jlis_gateway.models import JlisEvent, QuarantinedEvent

from .models import DisclosureRequest, SuspensionRequest, SuspensionStatus
from .selectors import holder_events, holder_keys, holder_quarantined

ITEM_LABELS = dict(ConsentItem.choices)


@dataclass(frozen=True)
class ConsentEntry:
    consent: Consent
    items: str
    holds_statement: bool
    holds_signature: bool
    holds_certificate: bool
    statement_text: str


@dataclass(frozen=True)
class EventEntry:
    event: JlisEvent
    reason_text: str
    # What the event carried that is still held: (label, value) pairs, in a fixed order.
    data: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class HistoryEntry:
    change: RecordChange
    label: str


@dataclass(frozen=True)
class DisclosureReport:
    request: DisclosureRequest
    record: DriverRecord
    generated_at: datetime
    feed: Feed
    consents: list[ConsentEntry]
    statements: list[ConsentStatement]
    mynaportal_link: MynaportalLink | None
    events: list[EventEntry]
    quarantined: list[QuarantinedEvent]
    history: list[HistoryEntry]
    suspensions: list[SuspensionRequest]


def _event_data(payload: dict[str, Any]) -> list[tuple[str, str]]:
    data = [(str(ITEM_LABELS[k]), str(payload[k])) for k in ("name", "address", "birth_date") if payload.get(k)]
    if payload.get("new_serial"):
        data.append((_("New certificate serial"), str(payload["new_serial"])))
    if payload.get("not_after"):
        data.append((_("New certificate valid until"), str(payload["not_after"])))
    if payload.get("items"):
        data.append((_("Items"), items_label(payload["items"])))
    if payload.get("consent_date"):
        data.append((_("Consent date"), str(payload["consent_date"])))
    if payload.get("certificate"):
        data.append((_("Signing certificate"), _("held")))
    return data


def _field_label(name: str) -> str:
    try:
        # The history names the record's own columns, never a relation.
        return str(cast("Field[Any, Any]", DriverRecord._meta.get_field(name)).verbose_name)
    except FieldDoesNotExist:
        return name


def disclosure_report(*, request: DisclosureRequest) -> DisclosureReport:
    record = request.record
    keys = holder_keys(record)
    events = list(holder_events(keys).order_by("occurred_at", "pk"))
    consents = consents_of_record(record=record)
    return DisclosureReport(
        request=request,
        record=record,
        generated_at=timezone.now(),
        feed=record_feed(record),
        consents=[
            ConsentEntry(
                consent=c,
                items=items_label(c.items),
                holds_statement=bool(bytes(c.statement_bytes)),
                holds_signature=bool(bytes(c.signature)),
                holds_certificate=bool(bytes(c.certificate)),
                statement_text=bytes(c.statement_bytes).decode("utf-8", errors="replace"),
            )
            for c in consents
        ],
        statements=statements_without_consent(record=record),
        mynaportal_link=mynaportal_link_of_record(record=record),
        events=[EventEntry(e, skip_reason_text(e.reason) if e.reason else "", _event_data(e.payload)) for e in events],
        quarantined=holder_quarantined({e.event_id for e in events}),
        history=[HistoryEntry(c, _field_label(c.field)) for c in record.changes.order_by("changed_at", "pk")],
        suspensions=list(
            SuspensionRequest.objects.filter(record=record, status=SuspensionStatus.CONFIRMED).order_by("decided_at")
        ),
    )
