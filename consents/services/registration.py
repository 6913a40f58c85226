"""Registering a signed consent (R3): verify first, then store it pending and queue it for J-LIS."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from driver_records.selectors import record_locked, serial_linked_elsewhere
from jlis_gateway.models import OutboxKind
from jlis_gateway.outbox import outbox_enqueue
from onestop.audit import AuditEntry, audit_log
from onestop.audit_actions import AuditAction
from onestop.metrics import metric_increment
from onestop.models import User
from onestop.roles import is_counter_staff

from ..errors import ConsentRefused
from ..jpki import JpkiError, VerifiedSignature, verify_consent_signature
from ..models import Channel, Consent, ConsentStatement, ConsentStatus
from ..selectors import consent_start_refusal, terms_version_current
from ._common import Actor, actor_office, audit_consent, audit_who, new_reference

logger = logging.getLogger(__name__)


def _usable(statement: ConsentStatement, now: datetime) -> None:
    if statement.used_at is not None:
        raise ConsentRefused("statement_used")
    if statement.expires_at <= now:
        raise ConsentRefused("statement_expired")


def _verify(
    statement: ConsentStatement, *, signature: bytes, certificate_der: bytes, at: datetime
) -> VerifiedSignature:
    try:
        verified = verify_consent_signature(
            statement=statement.text.encode("utf-8"), signature=signature, certificate_der=certificate_der, signed_at=at
        )
    except JpkiError as exc:
        raise ConsentRefused(str(exc.code.value)) from exc
    # The card must be this record's holder: a clerk who opened the wrong record would otherwise
    # link another person's certificate to it. The date of birth never changes, so it must match;
    # the name and address are not compared, since they are what the service exists to update
    # (and the certificate may carry substituted characters in the name).
    if verified.birth_date != statement.record.birth_date:
        raise ConsentRefused("holder_mismatch")
    return verified


def _refusal_record(*, statement: ConsentStatement, code: str, actor: Actor) -> None:
    """Keep why a signature was refused, for the clerk's page and the audit trail."""
    now = timezone.now()
    with transaction.atomic(durable=True):
        ConsentStatement.objects.filter(pk=statement.pk, used_at__isnull=True).update(refused_code=code, refused_at=now)
        audit_log(
            AuditEntry(
                action=AuditAction.CONSENT_REFUSE,
                subject_type="consent_statement",
                subject_id=str(statement.pk),
                record_number=statement.record.number,
                new_values={"code": code},
                **audit_who(actor),
            )
        )
    logger.info("signature for statement %s refused: %s", statement.pk, code)
    metric_increment("onestop_signature_refusals_total", code=code)


def consent_register(*, statement_id: int, signature: bytes, certificate_der: bytes, actor: Actor) -> Consent:
    """Verify the holder's signature over the statement; only then store the consent pending and
    write the J-LIS outbox row, in one transaction. Any refusal stores and sends nothing."""
    if isinstance(actor, User) and not is_counter_staff(actor):
        raise ConsentRefused("not_counter_staff")
    statement = (
        ConsentStatement.objects.select_related("record", "office", "terms_version", "clerk")
        .filter(pk=statement_id)
        .first()
    )
    office = actor_office(actor)
    if statement is None:
        raise ConsentRefused("statement_not_found")
    if office is None or office.pk != statement.office_id:
        raise ConsentRefused("statement_other_office")
    try:
        now = timezone.now()
        _usable(statement, now)
        # The check may consult revocation sources: it runs before, never inside, the transaction.
        verified = _verify(statement, signature=signature, certificate_der=certificate_der, at=now)
        return _store(
            statement=statement,
            verified=verified,
            signature=signature,
            certificate_der=certificate_der,
            actor=actor,
            at=now,
        )
    except ConsentRefused as refusal:
        _refusal_record(statement=statement, code=refusal.code, actor=actor)
        raise


def _store(
    *,
    statement: ConsentStatement,
    verified: VerifiedSignature,
    signature: bytes,
    certificate_der: bytes,
    actor: Actor,
    at: datetime,
) -> Consent:
    with transaction.atomic(durable=True):
        record = record_locked(statement.record_id)
        assert record is not None  # a statement's record is never deleted (PROTECT)
        # The holding status or residence may have changed since the statement was made.
        refusal = consent_start_refusal(record=record, office=statement.office)
        if refusal is not None:
            raise refusal
        # R17: the statement names the terms the holder accepts by signing. New terms may have
        # taken effect since it was made (the day changed in Japan): the consent would then be
        # given after the change, under terms the signed text does not name. A new statement.
        if terms_version_current() != statement.terms_version:
            raise ConsentRefused("terms_changed")
        if serial_linked_elsewhere(record=record, serial=verified.serial, issuer_key_id=verified.issuer_key_id):
            raise ConsentRefused("certificate_linked_elsewhere")
        # The claim: of two submissions of one statement, exactly one gets past this line.
        claimed = ConsentStatement.objects.filter(pk=statement.pk, used_at__isnull=True, expires_at__gt=at).update(
            used_at=at, refused_code="", refused_at=None
        )
        if claimed != 1:
            statement.refresh_from_db(fields=["used_at", "expires_at"])
            _usable(statement, at)
            raise ConsentRefused("statement_used")
        statement_bytes = statement.text.encode("utf-8")
        consent = Consent.objects.create(
            record=record,
            statement=statement,
            reference=new_reference(at),
            items=statement.items,
            channel=Channel.COUNTER,
            office=statement.office,
            clerk=statement.clerk,
            terms_version=statement.terms_version,
            statement_bytes=statement_bytes,
            statement_sha256=hashlib.sha256(statement_bytes).hexdigest(),
            signature=signature,
            certificate=certificate_der,
            verification={"result": "valid", "checked_at": at.isoformat(), **verified.evidence()},
            cert_serial=verified.serial,
            cert_issuer_key_id=verified.issuer_key_id,
            cert_not_after=verified.not_after,
            status=ConsentStatus.PENDING,
            created_at=at,
        )
        outbox_enqueue(kind=OutboxKind.SUBMIT_CONSENT, consent=consent)
        audit_consent(
            AuditAction.CONSENT_REGISTER,
            consent,
            actor=actor,
            new={
                "reference": consent.reference,
                "status": consent.status,
                "channel": consent.channel,
                "items": consent.items,
                "terms_version": statement.terms_version.version,
                "statement_sha256": consent.statement_sha256,
            },
        )
    logger.info("consent %s registered pending for record %s", consent.pk, record.pk)
    return consent
