"""Mynaportal (R4, R11, R13): linkage recorded at the counter, and consents given through it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from cryptography import x509
from django.db import transaction
from django.utils import timezone

from driver_records.access import office_serves
from driver_records.models import DriverRecord
from driver_records.selectors import record_by_serial, record_by_serial_before, record_eligibility, record_locked
from onestop.audit import AuditEntry, audit_log
from onestop.audit_actions import AuditAction
from onestop.models import User
from onestop.roles import is_counter_staff

from ..errors import SERVICE_SUSPENDED, ConsentRefused
from ..jpki.trust import trust_store
from ..models import Channel, Consent, ConsentStatus, MynaportalLink
from ..selectors import terms_version_current
from ._common import audit_consent, new_reference
from .lifecycle import EventOutcome, consent_activate, event_not_applied, serial_linked_elsewhere
from .statements import clean_items


def mynaportal_link_record(*, record_id: int, actor: User) -> MynaportalLink:
    """Record at the counter that the holder linked Mynaportal, with the serial it used (R13)."""
    if not is_counter_staff(actor):
        raise ConsentRefused("not_counter_staff")
    with transaction.atomic(durable=True):
        record = record_locked(record_id)
        if record is None:
            raise ConsentRefused("record_not_found")
        if actor.office is None:
            raise ConsentRefused("no_office")
        if not office_serves(actor.office, record.prefecture):  # the one object-scope rule
            raise ConsentRefused("wrong_prefecture")
        if not record.cert_serial:
            raise ConsentRefused("no_linked_certificate")
        now = timezone.now()
        previous = MynaportalLink.objects.filter(record=record).first()
        link, _created = MynaportalLink.objects.update_or_create(
            record=record, defaults={"linked_at": now, "linked_by": actor, "cert_serial": record.cert_serial}
        )
        audit_log(
            AuditEntry(
                action=AuditAction.MYNAPORTAL_LINK,
                subject_type="driver_record",
                subject_id=str(record.pk),
                actor=actor,
                record_number=record.number,
                serial=record.cert_serial,
                old_values={"cert_serial": previous.cert_serial} if previous else {},
                new_values={"cert_serial": link.cert_serial, "linked_at": now},
            )
        )
    return link


def record_for_mynaportal(*, serial: str, previous_serials: Sequence[str] = ()) -> DriverRecord | None:
    """The record a Mynaportal event names: by the serial it was signed with, else by one of the
    holder's earlier serials (after an expiry the holder signs with a new certificate, R11):
    the serial a record is linked to, the one its linkage used, or one it was linked to before."""
    for candidate in (serial, *previous_serials):
        record = record_by_serial(serial=candidate)
        if record is not None:
            return record
        link = MynaportalLink.objects.select_related("record").filter(cert_serial=candidate).first()
        if link is not None:
            return link.record
        before = record_by_serial_before(serial=candidate)
        if before is not None:
            return before
    return None


def _reported_certificate(der: bytes) -> tuple[str, str, datetime] | None:
    """(serial, issuer key id, not after) of the certificate a Mynaportal consent was signed
    with, or None unless it parses and one of our trusted signing CAs issued it (by key)."""
    try:
        certificate = x509.load_der_x509_certificate(der)
        anchor = trust_store().issuer_of(certificate)
    except ValueError:
        return None
    if anchor is None:
        return None
    return str(certificate.serial_number), anchor.key_id, certificate.not_valid_after_utc


def consent_register_from_mynaportal(
    *,
    record_id: int,
    items: Iterable[str],
    consent_date: date,
    certificate_der: bytes,
    jlis_consent_id: str,
    event_id: str = "",
    holder_seq: int = 0,
) -> EventOutcome:
    """A consent the holder gave through Mynaportal, reported by J-LIS already reflected, with
    the certificate it was signed with (its serial becomes the record's, R13). `holder_seq`, the
    holder sequence of J-LIS's event, places it in J-LIS's order (R6).

    It counts only for a record with Mynaportal linkage (R4); otherwise it is not applied and the
    reason is kept. Applying the data in its certificate (R11) is the applier's part.
    """
    with transaction.atomic(savepoint=False):
        record = record_locked(record_id)
        if record is None:
            return EventOutcome(False, "unknown_record")
        existing = Consent.objects.filter(jlis_consent_id=jlis_consent_id).first() if jlis_consent_id else None
        if existing is not None:
            return EventOutcome(False, "duplicate", existing)
        certificate = _reported_certificate(bytes(certificate_der))
        reason = (
            "chain_not_trusted"
            if certificate is None
            else _mynaportal_refusal(record=record, items=items, serial=certificate[0], issuer_key_id=certificate[1])
        )
        terms = terms_version_current(on=consent_date) or terms_version_current()
        if reason is None and terms is None:
            reason = "no_terms"
        if reason is not None:
            event_not_applied(record=record, reason=reason, event="mynaportal_register", event_id=event_id)
            return EventOutcome(False, reason)
        assert terms is not None and certificate is not None
        serial, issuer_key_id, not_after = certificate
        now = timezone.now()
        consent = Consent.objects.create(
            record=record,
            reference=new_reference(now),
            items=clean_items(items),
            channel=Channel.MYNAPORTAL,
            terms_version=terms,
            certificate=bytes(certificate_der),
            verification={"result": "reported_by_jlis", "checked_at": now.isoformat(), "event_id": event_id},
            cert_serial=serial,
            cert_issuer_key_id=issuer_key_id,
            cert_not_after=not_after,
            status=ConsentStatus.PENDING,
            jlis_consent_id=jlis_consent_id,
            created_at=now,
        )
        audit_consent(
            AuditAction.CONSENT_REGISTER,
            consent,
            actor=None,
            new={
                "reference": consent.reference,
                "channel": consent.channel,
                "items": consent.items,
                "terms_version": terms.version,
                "event_id": event_id,
            },
        )
        return consent_activate(
            record=record,
            consent=consent,
            consent_date=consent_date,
            jlis_consent_id=jlis_consent_id,
            event_id=event_id,
            holder_seq=holder_seq,
        )


def _mynaportal_refusal(*, record: DriverRecord, items: Iterable[str], serial: str, issuer_key_id: str) -> str | None:
    if record.service_stopped:  # R15 (the record is locked: read as of now)
        return SERVICE_SUSPENDED
    if not MynaportalLink.objects.filter(record=record).exists():
        return "no_mynaportal_link"
    if not record_eligibility(record).eligible:  # R1
        return "not_eligible"
    try:
        clean_items(items)
    except ConsentRefused as refusal:
        return refusal.code
    if serial_linked_elsewhere(record=record, serial=serial, issuer_key_id=issuer_key_id):
        return "certificate_linked_elsewhere"
    return None
