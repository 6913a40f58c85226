"""A consent's life after registration: reflected or rejected by J-LIS (R5, R6), revoked (R9),
expired. A certificate expiring or being revoked changes none of it (R7).

The services for J-LIS events join the caller's transaction (`savepoint=False`) so the applier
can run many events in one batch; called alone, each is its own transaction. They return an
EventOutcome instead of raising: an event that is not applied is kept with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from driver_records.access import office_serves
from driver_records.linking import Link, link_moves
from driver_records.models import DriverRecord
from driver_records.selectors import record_locked, serial_linked_elsewhere
from driver_records.services import record_certificate_link
from jlis_gateway.models import OutboxKind
from jlis_gateway.outbox import outbox_enqueue, outbox_submissions_withdraw
from jlis_gateway.selectors import outbox_submission_claimed
from onestop.audit import AuditEntry, audit_log, audit_log_many
from onestop.audit_actions import AuditAction
from onestop.models import User
from onestop.roles import is_supervisor
from onestop.validators import contains_my_number, my_number_refusal

from ..errors import ConsentRefused
from ..governing import consent_outranking
from ..models import Channel, Consent, ConsentStatus
from ..period import consent_period, japan_date
from ..selectors import EVENT_REFUSAL_ACTION
from ._common import audit_consent

REVOCABLE = (ConsentStatus.PENDING, ConsentStatus.ACTIVE)
REVOKE_REASON_MAX = 500
REVOKED_UNSENT = "not sent: the consent was revoked before it was sent"


@dataclass(frozen=True)
class EventOutcome:
    """What a J-LIS event did: applied, or not applied and why (a short code kept with the event)."""

    applied: bool
    reason: str = ""
    consent: Consent | None = None


def _locked(consent_id: int) -> tuple[DriverRecord, Consent] | None:
    """Lock the record, then the consent: the one order every writer of both uses."""
    record_id = Consent.objects.filter(pk=consent_id).values_list("record_id", flat=True).first()
    if record_id is None:
        return None
    record = record_locked(record_id)
    assert record is not None  # a consent's record is never deleted (PROTECT)
    consent = Consent.objects.select_for_update().select_related("record").get(pk=consent_id)
    return record, consent


def event_not_applied(*, record: DriverRecord, reason: str, event: str, event_id: str = "") -> None:
    """Keep why a J-LIS event for this record was not applied; the holder page shows it."""
    audit_log(
        AuditEntry(
            action=EVENT_REFUSAL_ACTION,
            subject_type="driver_record",
            subject_id=str(record.pk),
            actor_label="jlis",
            record_number=record.number,
            new_values={"event": event, "event_id": event_id, "reason": reason},
        )
    )


def _record_link(
    *, record: DriverRecord, consent: Consent, serial: str, holder_seq: int, event_id: str, at: datetime
) -> None:
    """R10/R13: the record is linked to the serial J-LIS named for the holder (`serial`; "" names
    the consent's certificate), if J-LIS named it after the serial linked now (link_moves). The
    consent's certificate gives the issuer key and validity when it is that serial."""
    serial = serial or consent.cert_serial
    signed_with = serial == consent.cert_serial
    named = Link(serial, holder_seq, consent.cert_not_after if signed_with else None)
    moved = link_moves(Link(record.cert_serial, record.cert_seq, record.cert_not_after), named)
    if moved is None:
        return
    issuer_key_id = record.cert_issuer_key_id
    if moved.serial != record.cert_serial:
        issuer_key_id = consent.cert_issuer_key_id if signed_with or not issuer_key_id else issuer_key_id
        if serial_linked_elsewhere(record=record, serial=moved.serial, issuer_key_id=issuer_key_id):
            event_not_applied(record=record, reason="certificate_linked_elsewhere", event="link", event_id=event_id)
            return
    record_certificate_link(
        record=record,
        serial=moved.serial,
        seq=moved.seq,
        issuer_key_id=issuer_key_id,
        not_after=moved.not_after,
        event_id=event_id,
        at=at,
    )


def consent_activate(
    *,
    record: DriverRecord,
    consent: Consent,
    consent_date: date,
    jlis_consent_id: str,
    event_id: str,
    holder_seq: int,
    serial: str = "",
) -> EventOutcome:
    """Make a consent J-LIS dated the governing one, unless J-LIS dated another of the record's
    consents after it (R5, R6: consents/governing.py); record and consent are locked. The record
    follows the serial J-LIS named (`serial` at `holder_seq`: _record_link)."""
    now = timezone.now()
    first_day, last_day = consent_period(consent_date)
    consent.consent_date, consent.first_day, consent.last_valid_day = consent_date, first_day, last_day
    consent.jlis_consent_id = jlis_consent_id or consent.jlis_consent_id
    consent.jlis_seq = holder_seq
    fields = ["status", "consent_date", "first_day", "last_valid_day", "jlis_consent_id", "jlis_seq"]
    newer = consent_outranking(consent)
    if newer is not None:
        # J-LIS gave the holder a newer consent already (it may reach us first, or have ended):
        # this one never governs, whenever it reaches us.
        consent.status, consent.superseded_by = ConsentStatus.SUPERSEDED, newer
        consent.save(update_fields=[*fields, "superseded_by"])
        audit_consent(
            AuditAction.CONSENT_SUPERSEDE,
            consent,
            actor=None,
            old={"status": ConsentStatus.PENDING},
            new={
                "status": consent.status,
                "consent_date": consent_date,
                "jlis_seq": holder_seq,
                "superseded_by": newer.reference,
                "event_id": event_id,
            },
        )
        if holder_seq:  # J-LIS's event names the holder's serial as of its sequence
            _record_link(
                record=record, consent=consent, serial=serial, holder_seq=holder_seq, event_id=event_id, at=now
            )
        return EventOutcome(True, "", consent)
    previous = Consent.objects.select_for_update().filter(record=record, status=ConsentStatus.ACTIVE).first()
    if previous is not None:
        previous.status, previous.superseded_by = ConsentStatus.SUPERSEDED, consent
        previous.save(update_fields=["status", "superseded_by"])
        audit_consent(
            AuditAction.CONSENT_SUPERSEDE,
            previous,
            actor=None,
            old={"status": ConsentStatus.ACTIVE},
            new={"status": previous.status, "superseded_by": consent.reference},
        )
    old_status, consent.status = consent.status, ConsentStatus.ACTIVE
    consent.save(update_fields=fields)
    audit_consent(
        AuditAction.CONSENT_REFLECT,
        consent,
        actor=None,
        old={"status": old_status},
        new={
            "status": consent.status,
            "consent_date": consent_date,
            "first_day": first_day,
            "last_valid_day": last_day,
            "jlis_consent_id": consent.jlis_consent_id,
            "jlis_seq": holder_seq,
            "event_id": event_id,
        },
    )
    _record_link(record=record, consent=consent, serial=serial, holder_seq=holder_seq, event_id=event_id, at=now)
    return EventOutcome(True, "", consent)


def consent_reflect(
    *,
    consent_id: int,
    consent_date: date,
    jlis_consent_id: str = "",
    event_id: str = "",
    holder_seq: int = 0,
    serial: str = "",
) -> EventOutcome:
    """J-LIS reflected the consent: its consent date is J-LIS's day (R5), and it becomes active
    unless J-LIS dated a newer consent of the holder (R6). `holder_seq` is the holder sequence of
    J-LIS's event (0 when unknown: of two consents dated the same day, the later reflected wins).

    `serial` is the holder's current serial at J-LIS, which the event names (the holder may have
    moved since signing: the record is linked to it, not to the certificate the consent was
    signed with; "" for the latter).
    """
    with transaction.atomic(savepoint=False):
        locked = _locked(consent_id)
        if locked is None:
            return EventOutcome(False, "unknown_consent")
        record, consent = locked
        if consent.status == ConsentStatus.ACTIVE and consent.consent_date == consent_date:
            return EventOutcome(False, "duplicate", consent)
        if consent.status != ConsentStatus.PENDING:
            # After a revocation (or rejection, supersession, expiry) nothing more is applied (R9).
            return EventOutcome(False, f"consent_{consent.status}", consent)
        if serial_linked_elsewhere(record=record, serial=consent.cert_serial, issuer_key_id=consent.cert_issuer_key_id):
            event_not_applied(record=record, reason="certificate_linked_elsewhere", event="reflect", event_id=event_id)
            return EventOutcome(False, "certificate_linked_elsewhere", consent)
        return consent_activate(
            record=record,
            consent=consent,
            consent_date=consent_date,
            jlis_consent_id=jlis_consent_id,
            event_id=event_id,
            holder_seq=holder_seq,
            serial=serial,
        )


def consent_jlis_id_record(*, consent_id: int, jlis_consent_id: str) -> bool:
    """J-LIS accepted the consent's submission under this id (the relay's outcome). Kept once:
    a replayed answer never replaces it. One conditional UPDATE, in the caller's transaction
    (the relay audits the answer with its outbox row); True when this call wrote it."""
    return Consent.objects.filter(pk=consent_id, jlis_consent_id="").update(jlis_consent_id=jlis_consent_id) == 1


def consent_reject(*, consent_id: int, reason: str, event_id: str = "") -> EventOutcome:
    """J-LIS refused the consent: it never becomes active; the reason is kept."""
    with transaction.atomic(savepoint=False):
        locked = _locked(consent_id)
        if locked is None:
            return EventOutcome(False, "unknown_consent")
        _record, consent = locked
        if consent.status == ConsentStatus.REJECTED:
            return EventOutcome(False, "duplicate", consent)
        if consent.status != ConsentStatus.PENDING:
            return EventOutcome(False, f"consent_{consent.status}", consent)
        consent.status, consent.rejected_reason = ConsentStatus.REJECTED, reason[:200]
        consent.save(update_fields=["status", "rejected_reason"])
        audit_consent(
            AuditAction.CONSENT_REJECT,
            consent,
            actor=None,
            old={"status": ConsentStatus.PENDING},
            new={"status": consent.status, "reason": consent.rejected_reason, "event_id": event_id},
        )
        return EventOutcome(True, "", consent)


def consent_revoke_elsewhere(
    *, consent_id: int, channel: str, revoked_at: datetime, event_id: str = ""
) -> EventOutcome:
    """J-LIS says the holder revoked through Mynaportal or JPKI Mobile (R9).

    J-LIS has revoked already: the revocation is honoured whatever we hold locally (a Mynaportal
    revocation with or without a linkage row recorded here), and nothing is applied after it.
    """
    if channel not in (Channel.MYNAPORTAL, Channel.JPKI_MOBILE):
        raise ValueError(f"not a J-LIS revocation channel: {channel}")
    with transaction.atomic(savepoint=False):
        locked = _locked(consent_id)
        if locked is None:
            return EventOutcome(False, "unknown_consent")
        _record, consent = locked
        if consent.status == ConsentStatus.REVOKED:
            return EventOutcome(False, "duplicate", consent)
        if consent.status not in REVOCABLE:
            return EventOutcome(False, f"consent_{consent.status}", consent)
        old_status = consent.status
        consent.status, consent.revoked_at, consent.revoked_channel = ConsentStatus.REVOKED, revoked_at, channel
        consent.save(update_fields=["status", "revoked_at", "revoked_channel"])
        audit_consent(
            AuditAction.CONSENT_REVOKE,
            consent,
            actor=None,
            old={"status": old_status},
            new={"status": consent.status, "channel": channel, "revoked_at": revoked_at, "event_id": event_id},
        )
        return EventOutcome(True, "", consent)


def supervisor_reason(actor: User, reason: str, field: str | Promise) -> str:
    """A supervisor's reason for ending a consent (revoking, withdrawing): only a supervisor ends
    one (R9); the reason on one line, given, bounded, and without a My Number (R14: `field`
    names it in the refusal)."""
    if not is_supervisor(actor):
        raise ConsentRefused("forbidden")
    reason = " ".join(reason.split())
    if not reason:
        raise ConsentRefused("reason_required")
    if len(reason) > REVOKE_REASON_MAX:
        raise ConsentRefused("reason_too_long")
    if contains_my_number(reason):  # R14
        raise ConsentRefused("contains_my_number", my_number_refusal(field))
    return reason


def locked_at_the_counter(consent_id: int, actor: User) -> tuple[DriverRecord, Consent]:
    """The consent and its record, locked, for a staff member of the holder's prefecture only
    (R9, R4: the one object-scope rule). Inside the caller's transaction."""
    locked = _locked(consent_id)
    if locked is None:
        raise ConsentRefused("consent_not_found")
    record, consent = locked
    if actor.office is None:
        raise ConsentRefused("no_office")
    if not office_serves(actor.office, record.prefecture):
        raise ConsentRefused("wrong_prefecture")
    return record, consent


def consent_revoke(*, consent_id: int, actor: User, reason: str) -> Consent:
    """A supervisor revokes a consent at the counter of the holder's residence (R9, R4).

    J-LIS is told through the outbox; after this nothing more is applied for the consent.
    """
    reason = supervisor_reason(actor, reason, _("Reason for revoking"))
    with transaction.atomic(durable=True):
        _record, consent = locked_at_the_counter(consent_id, actor)
        if consent.status not in REVOCABLE:
            raise ConsentRefused("not_revocable")
        now = timezone.now()
        old_status = consent.status
        consent.status, consent.revoked_at, consent.revoked_by = ConsentStatus.REVOKED, now, actor
        consent.revoked_channel, consent.revoked_reason = Channel.COUNTER, reason
        consent.save(update_fields=["status", "revoked_at", "revoked_by", "revoked_channel", "revoked_reason"])
        # A pending consent's submission the relay has not claimed is never sent: J-LIS, which
        # never had the consent, is not handed it to hold in force until the revocation follows.
        # A claimed one may be at J-LIS already: the revocation follows it (the relay waits for
        # its answer). An active consent is J-LIS's reflected one.
        unsent = 0
        if old_status == ConsentStatus.PENDING:
            unsent = outbox_submissions_withdraw(consent=consent, reason=REVOKED_UNSENT)
        at_jlis = (
            old_status == ConsentStatus.ACTIVE or bool(consent.jlis_consent_id) or outbox_submission_claimed(consent)
        )
        if at_jlis:
            outbox_enqueue(kind=OutboxKind.REVOKE_CONSENT, consent=consent)
        audit_consent(
            AuditAction.CONSENT_REVOKE,
            consent,
            actor=actor,
            old={"status": old_status},
            new={
                "status": consent.status,
                "channel": Channel.COUNTER,
                "reason": reason,
                "submission_withdrawn": unsent,
                "jlis_revocation_queued": at_jlis,
            },
        )
    return consent


def consent_expire_due(*, today: date | None = None) -> int:
    """Active consents whose last valid day has passed (in Japan) become expired. Daily."""
    day = today or japan_date(timezone.now())
    with transaction.atomic(durable=True):
        due = list(
            Consent.objects.select_for_update(of=("self",))
            .select_related("record")
            .filter(status=ConsentStatus.ACTIVE, last_valid_day__lt=day)
            .order_by("record_id")
        )
        if not due:
            return 0
        Consent.objects.filter(pk__in=[c.pk for c in due]).update(status=ConsentStatus.EXPIRED)
        audit_log_many(
            AuditEntry(
                action=AuditAction.CONSENT_EXPIRE,
                subject_type="consent",
                subject_id=str(c.pk),
                actor_label="system",
                record_number=c.record.number,
                serial=c.cert_serial,
                old_values={"status": ConsentStatus.ACTIVE},
                new_values={"status": ConsentStatus.EXPIRED, "last_valid_day": c.last_valid_day},
            )
            for c in due
        )
    return len(due)
