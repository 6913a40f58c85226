"""Consent events from J-LIS (reflected, rejected, revoked elsewhere, registered through
Mynaportal): each moves the consent through the consents services, inside the applier's
transaction. A Mynaportal registration also applies its certificate's data at once (R11)."""

from __future__ import annotations

import base64
from datetime import date, datetime

from cryptography import x509

from consents.jpki.profile import holder_items
from consents.selectors import consent_for_jlis, records_by_jlis_consent_id
from consents.services import (
    EventOutcome,
    consent_reflect,
    consent_register_from_mynaportal,
    consent_reject,
    consent_revoke_elsewhere,
    record_for_mynaportal,
)
from driver_records.bulk import record_lock_values, records_update_batch
from jlis_gateway.inbox import EventKind, JlisEvent, event_certificate_drop

from .decide import RecordState
from .write import Applied, history_and_audit_write

# Reasons that may be a race (the consent's J-LIS id is stored when the relay's answer commits):
# the event waits like one about an unknown serial.
WAIT_REASONS = frozenset({"unknown_consent"})


def _certificate_items(certificate_der: bytes) -> dict[str, object]:
    """The holder's data in a signing certificate (its trust was checked by the consent service)."""
    certificate = x509.load_der_x509_certificate(certificate_der)
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    decoded = holder_items({name.type_id: name.value for name in san if isinstance(name, x509.OtherName)})
    return {"name": decoded.name, "address": decoded.address, "birth_date": decoded.birth_date}


def _consent_pk(jlis_consent_id: str) -> int | None:
    consent = consent_for_jlis(jlis_consent_id=jlis_consent_id)
    return consent.pk if consent else None


def _registered(event: JlisEvent, at: datetime) -> EventOutcome:
    """A registration through Mynaportal, applied or not; either way the event no longer holds
    the certificate afterwards (a registration never waits, so it is never read again)."""
    outcome = _register(event, at)
    event_certificate_drop(event=event)  # in the applier's transaction: kept until the registration is done with
    return outcome


def _register(event: JlisEvent, at: datetime) -> EventOutcome:
    record = record_for_mynaportal(serial=event.serial, previous_serials=event.payload.get("previous_serials", []))
    if record is None:
        return EventOutcome(False, "unknown_serial")
    certificate_der = base64.b64decode(event.payload["certificate"])
    outcome = consent_register_from_mynaportal(
        record_id=record.pk,
        items=event.payload["items"],
        consent_date=date.fromisoformat(event.payload["consent_date"]),
        certificate_der=certificate_der,
        jlis_consent_id=event.payload["consent_id"],
        event_id=event.event_id,
        holder_seq=event.holder_seq,
    )
    if outcome.applied and outcome.consent is not None:
        _apply_certificate_items(record.pk, outcome.consent.items, _certificate_items(certificate_der), event, at)
    return outcome


def _apply_certificate_items(
    record_id: int, items: list[str], data: dict[str, object], event: JlisEvent, at: datetime
) -> None:
    """R11: a re-registration through Mynaportal applies its certificate's data, only the items,
    unless data J-LIS sent later (by the holder's sequence) are applied already: the consent
    counts, the older data do not."""
    record = RecordState(**record_lock_values(record_id))
    if event.holder_seq <= record.jlis_seq:
        return
    old, new = {}, {}
    for item in items:
        if getattr(record, item) != data[item]:
            old[item], new[item] = getattr(record, item), data[item]
            setattr(record, item, data[item])
    record.jlis_seq = event.holder_seq
    records_update_batch([record], {record.id: 1 if new else 0}, at)
    if new:
        history_and_audit_write([Applied(record, event.event_id, old, new)], at)


def consent_event_record_id(event: JlisEvent) -> int | None:
    """The record a consent event is about, or None when it names none we know (yet)."""
    if event.kind == EventKind.CONSENT_REGISTERED:
        record = record_for_mynaportal(serial=event.serial, previous_serials=event.payload.get("previous_serials", []))
        return record.pk if record else None
    consent = consent_for_jlis(jlis_consent_id=event.payload.get("consent_id", ""))
    return consent.record_id if consent else None


def consent_events_record_ids(events: list[JlisEvent]) -> dict[int, int]:
    """event id -> the record each of these consent events is about, for those that name one we
    know: the consents' records in one query, a Mynaportal registration's by its serials."""
    by_consent = records_by_jlis_consent_id(
        e.payload.get("consent_id", "") for e in events if e.kind != EventKind.CONSENT_REGISTERED
    )
    found: dict[int, int] = {}
    for event in events:
        if event.kind == EventKind.CONSENT_REGISTERED:
            record_id = consent_event_record_id(event)
        else:
            record_id = by_consent.get(event.payload.get("consent_id", ""))
        if record_id is not None:
            found[event.pk] = record_id
    return found


def consent_event_apply(event: JlisEvent, at: datetime) -> EventOutcome:
    """Apply one consent event inside the caller's transaction."""
    payload = event.payload
    if event.kind == EventKind.CONSENT_REGISTERED:
        return _registered(event, at)
    consent_pk = _consent_pk(payload["consent_id"])
    if consent_pk is None:
        return EventOutcome(False, "unknown_consent")
    if event.kind == EventKind.CONSENT_REFLECTED:
        return consent_reflect(
            consent_id=consent_pk,
            consent_date=date.fromisoformat(payload["consent_date"]),
            jlis_consent_id=payload["consent_id"],
            event_id=event.event_id,
            holder_seq=event.holder_seq,
            serial=event.serial,
        )
    if event.kind == EventKind.CONSENT_REJECTED:
        return consent_reject(consent_id=consent_pk, reason=payload["reason"], event_id=event.event_id)
    if event.kind == EventKind.CONSENT_REVOKED:
        return consent_revoke_elsewhere(
            consent_id=consent_pk, channel=payload["channel"], revoked_at=event.occurred_at, event_id=event.event_id
        )
    raise ValueError(f"not a consent event: {event.kind}")
