"""A holder's consents when the service is stopped for them (R15, terms 7): the safeguards app
decides the suspension and what is erased; these services change the consents' rows. Each joins
the caller's transaction (`savepoint=False`), in which the holder's record is locked."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from driver_records.models import DriverRecord
from jlis_gateway.models import OutboxKind
from jlis_gateway.outbox import outbox_enqueue, outbox_submissions_withdraw
from jlis_gateway.selectors import outbox_submission_claimed
from onestop.audit import AuditEntry
from onestop.audit_actions import AuditAction
from onestop.models import User

from ..models import Consent, ConsentStatement, ConsentStatus

SUSPENDABLE = (ConsentStatus.PENDING, ConsentStatus.ACTIVE)
NOT_SENT = "not sent: the service was stopped for this holder (R15)"
# What the erasure counts of the consents, by kind (safeguards.services.erasure names them).
EVIDENCE_KINDS = ("consent.signed_statement", "consent.signature", "consent.certificate", "consent.verification")


def consents_suspend(*, record: DriverRecord, actor: User) -> list[AuditEntry]:
    """Pending and active consents become suspended; unsent submissions are withdrawn, and J-LIS
    is asked to revoke what it may hold. Returns the audit entries, which the caller writes with
    the suspension's own (one chain append)."""
    entries = []
    with transaction.atomic(savepoint=False):
        consents = Consent.objects.select_for_update().filter(record=record, status__in=SUSPENDABLE).order_by("pk")
        for consent in consents:
            old_status, consent.status = consent.status, ConsentStatus.SUSPENDED
            consent.save(update_fields=["status"])
            # Claimed rows are left alone: the relay may be sending them, so J-LIS may hold the consent.
            withdrawn = outbox_submissions_withdraw(consent=consent, reason=NOT_SENT)
            at_jlis = bool(consent.jlis_consent_id) or outbox_submission_claimed(consent)
            if at_jlis:
                outbox_enqueue(kind=OutboxKind.REVOKE_CONSENT, consent=consent)
            entries.append(
                AuditEntry(
                    action=AuditAction.CONSENT_SUSPEND,
                    subject_type="consent",
                    subject_id=str(consent.pk),
                    actor=actor,
                    record_number=record.number,
                    serial=consent.cert_serial,
                    old_values={"status": old_status},
                    new_values={
                        "status": consent.status,
                        "submission_withdrawn": withdrawn,
                        "jlis_revocation_queued": at_jlis,
                    },
                )
            )
    return entries


def consents_evidence_erase(*, record: DriverRecord, verification_kept: Iterable[str]) -> dict[str, int]:
    """The holder's consents lose their signed statements, signatures and certificates, and their
    verification evidence keeps only the keys in `verification_kept`. Counts by kind."""
    kept_keys = frozenset(verification_kept)
    counts = dict.fromkeys(EVIDENCE_KINDS, 0)
    with transaction.atomic(savepoint=False):
        for consent in Consent.objects.filter(record=record).order_by("pk"):
            fields = []
            if bytes(consent.statement_bytes) or consent.statement_sha256:
                consent.statement_bytes, consent.statement_sha256 = b"", ""
                fields += ["statement_bytes", "statement_sha256"]
                counts["consent.signed_statement"] += 1
            if bytes(consent.signature):
                consent.signature = b""
                fields.append("signature")
                counts["consent.signature"] += 1
            if bytes(consent.certificate):
                consent.certificate = b""
                fields.append("certificate")
                counts["consent.certificate"] += 1
            kept = {k: v for k, v in consent.verification.items() if k in kept_keys}
            if kept != consent.verification:
                consent.verification = kept
                fields.append("verification")
                counts["consent.verification"] += 1
            if fields:
                consent.save(update_fields=fields)
    return counts


def consent_statements_text_erase(*, record: DriverRecord) -> int:
    """The statements shown to the holder for signing lose their text; how many did."""
    with transaction.atomic(savepoint=False):
        return ConsentStatement.objects.filter(record=record).exclude(text="").update(text="")
