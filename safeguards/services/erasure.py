"""Erasing the information collected from a holder (R15, terms 7). What counts as collected, and
what is kept and why: docs/defensive-measures.md.

Runs inside the confirmation's transaction, with the holder's J-LIS events and record locked.
Returns counts by kind, which the audit trail keeps instead of the erased data.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.utils.translation import gettext_lazy as _

from consents.models import Consent, ConsentStatement
from driver_records.models import ChangeSource, DriverRecord, RecordChange
from jlis_gateway.models import EventStatus, JlisEvent
from onestop.idempotency import idempotent_answers_erase

ITEM_FIELDS = ("name", "address", "birth_date")
# What stays in a J-LIS event's payload: serials, validity, ids, items chosen, dates and reasons.
# Anything else (the holder's name, address, birth date, a certificate) is erased.
PAYLOAD_KEPT = frozenset(
    {
        "old_serial",
        "new_serial",
        "previous_serials",
        "not_after",
        "consent_id",
        "items",
        "consent_date",
        "reason",
        "channel",
    }
)
# What stays of the verification evidence: how the police checked, not what the certificate said.
VERIFICATION_KEPT = frozenset(
    {
        "result",
        "checked_at",
        "serial",
        "issuer_key_id",
        "not_before",
        "not_after",
        "trust_anchor",
        "revocation_source",
        "revocation_checked_at",
        "event_id",
    }
)
SUSPENDED_SKIP = "consent_suspended"
# The kinds the erasure counts, as the audit trail and the measure's page name them.
ERASED_KINDS = {
    "consent.signed_statement": _("Signed consent statements"),
    "consent.signature": _("Signatures"),
    "consent.certificate": _("Signing certificates"),
    "consent.verification": _("Verification evidence (copies of certificate contents)"),
    "consent_statement.text": _("Statements shown for signing"),
    "jlis_event.payload": _("J-LIS events: the holder's data in them"),
    "jlis_event.pending_skipped": _("J-LIS events waiting to be applied (skipped)"),
    "record_change.values": _("Change history: values J-LIS gave"),
    # Counted by measures taken before unreadable events stopped keeping their bodies (shown on their pages).
    "quarantined_event.raw": _("Unreadable J-LIS events naming the holder"),
    "idempotent_request.answer": _("Answers kept to replay a repeated form or API request"),
}


def holder_data_erase(*, record: DriverRecord, events: list[JlisEvent], at: datetime) -> dict[str, int]:
    """Erase what was collected from the holder of `record`; the record itself stays."""
    counts: dict[str, int] = {}
    counts.update(_consents_erase(record))
    counts["consent_statement.text"] = ConsentStatement.objects.filter(record=record).exclude(text="").update(text="")
    jlis_values = _item_values(events)
    counts.update(_events_erase(events, at))
    counts["record_change.values"] = _history_erase(record, jlis_values)
    # A repeated request's kept answer may quote a statement's text (R15: nothing of it survives).
    counts["idempotent_request.answer"] = idempotent_answers_erase(record_number=record.number)
    return counts


def _consents_erase(record: DriverRecord) -> dict[str, int]:
    counts = dict.fromkeys(
        ("consent.signed_statement", "consent.signature", "consent.certificate", "consent.verification"), 0
    )
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
        kept = {k: v for k, v in consent.verification.items() if k in VERIFICATION_KEPT}
        if kept != consent.verification:
            consent.verification = kept
            fields.append("verification")
            counts["consent.verification"] += 1
        if fields:
            consent.save(update_fields=fields)
    return counts


def _item_values(events: Iterable[JlisEvent]) -> set[str]:
    return {str(e.payload[f]) for e in events for f in ITEM_FIELDS if e.payload.get(f) not in (None, "")}


def _events_erase(events: list[JlisEvent], at: datetime) -> dict[str, int]:
    erased = skipped = 0
    for event in events:
        fields = []
        kept = {k: v for k, v in event.payload.items() if k in PAYLOAD_KEPT}
        if kept != event.payload:
            event.payload = kept
            fields.append("payload")
            erased += 1
        if event.status == EventStatus.PENDING:
            # The service is stopped: nothing waiting for them will be applied.
            event.status, event.reason, event.processed_at = EventStatus.SKIPPED, SUSPENDED_SKIP, at
            fields += ["status", "reason", "processed_at"]
            skipped += 1
        if fields:
            event.save(update_fields=fields)
    return {"jlis_event.payload": erased, "jlis_event.pending_skipped": skipped}


def _history_erase(record: DriverRecord, jlis_values: set[str]) -> int:
    """The history of name, address and birth date as J-LIS gave them: the values of every change
    J-LIS made, and any value J-LIS gave that a counter change later replaced."""
    rows = list(RecordChange.objects.filter(record=record, field__in=ITEM_FIELDS))
    jlis_values = jlis_values | {r.new_value for r in rows if r.source == ChangeSource.JLIS}
    changed = []
    for row in rows:
        old, new = row.old_value, row.new_value
        if row.source == ChangeSource.JLIS:
            row.old_value = row.new_value = ""
        else:
            row.old_value = "" if row.old_value in jlis_values else row.old_value
            row.new_value = "" if row.new_value in jlis_values else row.new_value
        if (row.old_value, row.new_value) != (old, new):
            changed.append(row)
    RecordChange.objects.bulk_update(changed, ["old_value", "new_value"])
    return len(changed)
