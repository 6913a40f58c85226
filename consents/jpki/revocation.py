"""Revocation status of a signing certificate: a small interface, and the CRL-backed checker.

An OCSP client can implement `RevocationChecker` too; the verifier only reads `RevocationStatus`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from django.db.models import QuerySet
from django.utils import timezone

from consents.models import CrlImport, RevokedCertificate

# A revocation for these reasons makes every signature suspect, whenever it was made; any other
# reason (the holder moved, renewed, ...) counts only from its revocation date onwards.
COMPROMISE_REASONS = frozenset({"keyCompromise", "cACompromise"})
NO_CRL = "no CRL imported for this CA"


@dataclass(frozen=True)
class RevocationStatus:
    revoked: bool
    source: str  # what the answer rests on, e.g. "crl #12 this_update 2026-11-26T00:00:00+00:00"
    checked_at: datetime
    revoked_at: datetime | None = None
    reason: str = ""


class RevocationChecker(Protocol):
    def status(self, *, issuer_key_id: str, serial: str, at: datetime) -> RevocationStatus:
        """Whether the certificate counted as revoked at `at` (the time of signing)."""
        ...


def revoked_entry_query(*, issuer_key_id: str, serial: str, using: str = "default") -> QuerySet[RevokedCertificate]:
    """The lookup: one probe of the unique (issuer_key_id, serial) index, whatever the CRL size."""
    entries = RevokedCertificate.objects.using(using).filter(issuer_key_id=issuer_key_id, serial=serial)
    return entries.only("revoked_at", "reason")[:1]


def crl_source(*, issuer_key_id: str, now: datetime, using: str = "default") -> str:
    latest = (
        CrlImport.objects.using(using)
        .filter(issuer_key_id=issuer_key_id)
        .order_by("-crl_number")
        .values_list("crl_number", "this_update", "next_update")[:1]
    )
    row = next(iter(latest), None)
    if row is None:
        return NO_CRL
    number, this_update, next_update = row
    source = f"crl #{number} this_update {this_update.astimezone(UTC).isoformat()}"
    if next_update is not None and next_update < now:
        source += f" (stale: next_update {next_update.astimezone(UTC).isoformat()})"
    return source


class CrlRevocationChecker:
    """Answers from the imported J-LIS CRLs (`crl_import`), in the database `using`."""

    def __init__(self, *, using: str = "default") -> None:
        self.using = using

    def status(self, *, issuer_key_id: str, serial: str, at: datetime) -> RevocationStatus:
        now = timezone.now()
        source = crl_source(issuer_key_id=issuer_key_id, now=now, using=self.using)
        query = revoked_entry_query(issuer_key_id=issuer_key_id, serial=serial, using=self.using)
        entry = next(iter(query), None)
        if entry is None:
            return RevocationStatus(revoked=False, source=source, checked_at=now)
        counts = entry.reason in COMPROMISE_REASONS or entry.revoked_at <= at
        return RevocationStatus(
            revoked=counts, source=source, checked_at=now, revoked_at=entry.revoked_at, reason=entry.reason
        )
