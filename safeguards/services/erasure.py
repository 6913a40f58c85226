"""Erasing the information collected from a holder (R15, terms 7). What counts as collected, and
what is kept and why: docs/defensive-measures.md.

Runs inside the confirmation's transaction, with the holder's J-LIS events and record locked.
Returns counts by kind, which the audit trail keeps instead of the erased data.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from consents.services import consent_statements_text_erase, consents_evidence_erase
from driver_records.services import record_changes_erase
from jlis_gateway.services.erasure import jlis_events_erase
from onestop.idempotency import idempotent_answers_erase

if TYPE_CHECKING:
    from driver_records.models import DriverRecord
    from jlis_gateway.models import JlisEvent

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
    """Erase what was collected from the holder of `record`; the record itself stays. Each app
    erases its own rows; this decides what is kept."""
    counts: dict[str, int] = {}
    counts.update(consents_evidence_erase(record=record, verification_kept=VERIFICATION_KEPT))
    counts["consent_statement.text"] = consent_statements_text_erase(record=record)
    jlis_values = _item_values(events)
    erased = jlis_events_erase(events=events, payload_kept=PAYLOAD_KEPT, skip_reason=SUSPENDED_SKIP, at=at)
    counts["jlis_event.payload"], counts["jlis_event.pending_skipped"] = erased.payloads, erased.skipped
    # The history of name, address and birth date as J-LIS gave them: the values of every change
    # J-LIS made, and any value J-LIS gave that a counter change later replaced.
    counts["record_change.values"] = record_changes_erase(record=record, fields=ITEM_FIELDS, jlis_values=jlis_values)
    # A repeated request's kept answer may quote a statement's text (R15: nothing of it survives).
    counts["idempotent_request.answer"] = idempotent_answers_erase(record_number=record.number)
    return counts


def _item_values(events: Iterable[JlisEvent]) -> set[str]:
    return {str(e.payload[f]) for e in events for f in ITEM_FIELDS if e.payload.get(f) not in (None, "")}
