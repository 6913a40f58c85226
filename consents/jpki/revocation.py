"""Revocation status of a signing certificate: a small interface, and the CRL-backed checker.

An OCSP client can implement `RevocationChecker` too; the verifier only reads `RevocationStatus`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from consents.models import CrlImport, RevokedCertificate

from .trust import trust_store

# A revocation for these reasons makes every signature suspect, whenever it was made; any other
# reason (the holder moved, renewed, ...) counts only from its revocation date onwards.
COMPROMISE_REASONS = frozenset({"keyCompromise", "cACompromise"})
NO_CRL = "no CRL imported for this CA"


@dataclass(frozen=True)
class RevocationStatus:
    revoked: bool
    # False: no current source could tell (no CRL, or one past its nextUpdate and the grace).
    # The verifier refuses then: an unknown status is never taken as "not revoked" (R3).
    known: bool
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


class CrlFreshness(StrEnum):
    """How current the latest imported CRL of a CA key is (the monitor shows it per CA)."""

    CURRENT = "current"  # before its nextUpdate
    LATE = "late"  # past its nextUpdate, within settings.JPKI_CRL_GRACE_HOURS: still used
    EXPIRED = "expired"  # past its nextUpdate and the grace: consents are refused
    MISSING = "missing"  # none imported for this key: consents are refused


@dataclass(frozen=True)
class CrlState:
    issuer_key_id: str
    freshness: CrlFreshness
    crl_number: int | None = None
    this_update: datetime | None = None
    next_update: datetime | None = None
    imported_at: datetime | None = None
    entries: int | None = None

    @property
    def usable(self) -> bool:
        """Whether a revocation answer may rest on this CRL (R3 fails closed otherwise)."""
        return self.freshness in (CrlFreshness.CURRENT, CrlFreshness.LATE)

    @property
    def source(self) -> str:
        if self.crl_number is None or self.this_update is None:
            return NO_CRL
        source = f"crl #{self.crl_number} this_update {self.this_update.astimezone(UTC).isoformat()}"
        if self.freshness is not CrlFreshness.CURRENT:
            until = self.next_update.astimezone(UTC).isoformat() if self.next_update else "none"
            source += f" ({self.freshness.value}: next_update {until})"
        return source


def crl_grace() -> timedelta:
    """How long past its nextUpdate a CRL still answers (docs/security.md, "Revocation")."""
    return timedelta(hours=settings.JPKI_CRL_GRACE_HOURS)


def crl_state(*, issuer_key_id: str, now: datetime, using: str = "default") -> CrlState:
    """The latest CRL imported for a CA key, and whether it is current at `now`."""
    latest = (
        CrlImport.objects.using(using)
        .filter(issuer_key_id=issuer_key_id)
        .order_by("-crl_number")
        .values_list("crl_number", "this_update", "next_update", "imported_at", "entries")[:1]
    )
    row = next(iter(latest), None)
    if row is None:
        return CrlState(issuer_key_id=issuer_key_id, freshness=CrlFreshness.MISSING)
    number, this_update, next_update, imported_at, entries = row
    if next_update is None:  # no promise of a next CRL: nothing says this one is current
        freshness = CrlFreshness.EXPIRED
    elif now <= next_update:
        freshness = CrlFreshness.CURRENT
    elif now <= next_update + crl_grace():
        freshness = CrlFreshness.LATE
    else:
        freshness = CrlFreshness.EXPIRED
    return CrlState(
        issuer_key_id=issuer_key_id,
        freshness=freshness,
        crl_number=int(number),
        this_update=this_update,
        next_update=next_update,
        imported_at=imported_at,
        entries=entries,
    )


class CrlRevocationChecker:
    """Answers from the imported J-LIS CRLs (`crl_import`), in the database `using`."""

    def __init__(self, *, using: str = "default") -> None:
        self.using = using

    def status(self, *, issuer_key_id: str, serial: str, at: datetime) -> RevocationStatus:
        now = timezone.now()
        state = crl_state(issuer_key_id=issuer_key_id, now=now, using=self.using)
        query = revoked_entry_query(issuer_key_id=issuer_key_id, serial=serial, using=self.using)
        entry = next(iter(query), None)
        # A listed revocation stands whatever the CRL's age (a revocation is never undone); an
        # unlisted serial means "not revoked" only when a current CRL says so.
        if entry is None:
            return RevocationStatus(revoked=False, known=state.usable, source=state.source, checked_at=now)
        counts = entry.reason in COMPROMISE_REASONS or entry.revoked_at <= at
        return RevocationStatus(
            revoked=counts,
            known=counts or state.usable,
            source=state.source,
            checked_at=now,
            revoked_at=entry.revoked_at,
            reason=entry.reason,
        )


@dataclass(frozen=True)
class AnchorCrlState:
    anchor: str  # the trusted signing-CA key's label and key id
    crl: CrlState


def crl_states(*, now: datetime | None = None) -> list[AnchorCrlState]:
    """Each trusted signing-CA key and its latest CRL (the gateway monitor shows them)."""
    moment = now or timezone.now()
    return [
        AnchorCrlState(anchor=anchor.description, crl=crl_state(issuer_key_id=anchor.key_id, now=moment))
        for anchor in trust_store().anchors
    ]
