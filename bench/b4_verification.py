"""B4: consent-signature verification against an empty vs. a 1,000,000-entry revocation store,
and the CRL import rate.

Runs on PostgreSQL (DATABASE_URL) in two scratch databases made for the run and dropped after.
The two stores are measured in alternating rounds so that drift on a shared machine hits both.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from cryptography import x509
from django.conf import settings

from consents.jpki.crl import crl_import
from consents.jpki.profile import POLICY_TEST
from consents.jpki.revocation import CrlRevocationChecker
from consents.jpki.testcard import CardHolder, TestCard, TestHierarchy, make_crl
from consents.jpki.trust import TrustStore, signing_anchor
from consents.jpki.verify import ConsentSignatureVerifier
from consents.models import CrlImport

from .scratch import add_alias, scratch_database

ENTRIES = 1_000_000
ROUNDS = 30
PER_ROUND = 100
EMPTY = "b4_empty"


def run() -> Iterator[str]:
    if not settings.USING_POSTGRES:
        yield "B4 skipped: needs PostgreSQL (set DATABASE_URL)"
        return
    add_alias(EMPTY)
    with scratch_database("b4_loaded"), scratch_database("b4_empty", alias=EMPTY):
        yield from _measure()


@dataclass(frozen=True)
class Signed:
    """A consent statement signed by a test card of a fresh test hierarchy, and the trust store
    that verifies it."""

    hierarchy: TestHierarchy
    trust: TrustStore
    card: TestCard
    statement: bytes
    signature: bytes
    now: datetime

    @classmethod
    def make(cls) -> Signed:
        hierarchy = TestHierarchy.generate()
        anchor = signing_anchor("B4 signing CA", hierarchy.signing_ca.certificate)
        trust = TrustStore(name="test", policy=POLICY_TEST, anchors=(anchor,))
        card = hierarchy.issue_card(
            CardHolder(name="山田　太郎", address="東京都千代田区霞が関二丁目１番１号", birth_date=date(1980, 5, 17))
        )
        statement = "同意書 B4".encode()
        return cls(hierarchy, trust, card, statement, card.sign(statement), datetime.now(UTC).replace(microsecond=0))

    @property
    def issuer_key_id(self) -> str:
        return self.trust.anchors[0].key_id


def verification_rates(signed: Signed, stores: dict[str, str]) -> dict[str, float]:
    """Verifications a second of `signed`'s consent against each revocation store ({name: database
    alias}, each holding a current CRL of the signing CA), in ROUNDS alternating rounds."""
    verifiers = {
        name: ConsentSignatureVerifier(trust=signed.trust, revocation=CrlRevocationChecker(using=alias))
        for name, alias in stores.items()
    }

    def verify(which: str) -> None:
        result = verifiers[which].verify(
            statement=signed.statement,
            signature=signed.signature,
            certificate_der=signed.card.certificate_der,
            signed_at=signed.now,
        )
        assert result.serial == signed.card.serial

    for which in verifiers:  # warm up connections and caches
        for _ in range(PER_ROUND):
            verify(which)
    totals = dict.fromkeys(verifiers, 0.0)
    for round_number in range(ROUNDS):
        order = list(verifiers) if round_number % 2 == 0 else list(reversed(verifiers))
        for which in order:
            started = time.perf_counter()
            for _ in range(PER_ROUND):
                verify(which)
            totals[which] += time.perf_counter() - started
    return {which: ROUNDS * PER_ROUND / seconds for which, seconds in totals.items()}


def _measure() -> Iterator[str]:
    signed = Signed.make()
    hierarchy, trust, now = signed.hierarchy, signed.trust, signed.now

    # A J-LIS-sized CRL: a million serials, a seventh of them with a reason code.
    started = time.perf_counter()
    revoked_at = now - timedelta(days=1)
    reason = x509.ReasonFlags.affiliation_changed
    entries = [(10**15 + i * 7, revoked_at, reason if i % 7 == 0 else None) for i in range(ENTRIES)]
    der = make_crl(hierarchy.signing_ca, entries, number=1, this_update=now)
    # The next day's CRL: the same million and 1% new, the steady state of a daily import.
    entries += [(10**16 + i, now, None) for i in range(ENTRIES // 100)]
    next_der = make_crl(hierarchy.signing_ca, entries, number=2, this_update=now)
    del entries
    built = time.perf_counter() - started

    started = time.perf_counter()
    record = crl_import(der=der, trust=trust, actor_label="bench")
    seconds = time.perf_counter() - started
    yield (
        f"B4 crl_import entries_per_s={record.entries / seconds:,.0f} entries={record.entries} "
        f"seconds={seconds:.1f} crl_bytes={len(der)} (building the two CRLs took {built:.1f}s)"
    )

    # The empty database holds the same current CRL with nothing listed: a serial is "not revoked"
    # only when a current CRL says so (R3 fails closed without one).
    CrlImport.objects.using(EMPTY).create(
        issuer_key_id=record.issuer_key_id,
        crl_number=record.crl_number,
        this_update=record.this_update,
        next_update=record.next_update,
        entries=0,
        imported_at=record.imported_at,
    )
    rates = verification_rates(signed, {"empty": EMPTY, "loaded": "default"})
    count = ROUNDS * PER_ROUND
    empty_per_s, loaded_per_s = rates["empty"], rates["loaded"]
    yield (
        f"B4 verification ratio={empty_per_s / loaded_per_s:.2f} empty_per_s={empty_per_s:,.0f} "
        f"loaded_per_s={loaded_per_s:,.0f} revoked_serials={record.entries} verifications={count} each"
    )

    started = time.perf_counter()
    record = crl_import(der=next_der, trust=trust, actor_label="bench")
    seconds = time.perf_counter() - started
    yield (
        f"B4 crl_reimport entries_per_s={record.entries / seconds:,.0f} entries={record.entries} "
        f"seconds={seconds:.1f} (the next CRL: {ENTRIES:,} already stored, {ENTRIES // 100:,} new)"
    )
