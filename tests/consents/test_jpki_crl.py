"""R3: the revocation store. J-LIS CRLs are checked, imported in bulk and looked up by index."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.db import connection

from consents.jpki import JpkiError, JpkiErrorCode, verify_consent_signature
from consents.jpki.crl import CrlImportError, _store_bulk_create, _store_postgres, crl_import
from consents.jpki.revocation import revoked_entry_query
from consents.jpki.testcard import CardHolder, TestCard, TestHierarchy, make_crl
from consents.models import CrlImport, RevokedCertificate
from onestop.models import AuditEvent

HOLDER = CardHolder(name="田中　次郎", address="東京都港区芝公園四丁目２番８号", birth_date=date(1975, 10, 1))
STATEMENT = b"statement"
T0 = datetime(2026, 11, 1, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture
def hierarchy(jpki_hierarchy: TestHierarchy) -> TestHierarchy:
    """The trusted hierarchy, its CRL kept in memory (the shared directory stays untouched)."""
    return TestHierarchy(jpki_hierarchy.signing_ca, jpki_hierarchy.auth_ca)


@pytest.fixture
def card(hierarchy: TestHierarchy, jpki_card_key: rsa.RSAPrivateKey) -> TestCard:
    return hierarchy.issue_card(HOLDER, issued_at=datetime(2025, 1, 1, tzinfo=UTC), key=jpki_card_key)


def verify(card: TestCard, at: datetime | None = None):
    return verify_consent_signature(
        statement=STATEMENT,
        signature=card.sign(STATEMENT),
        certificate_der=card.certificate_der,
        signed_at=at or datetime.now(UTC),
    )


def test_r03_imported_crl_revokes_its_serials_with_their_reason_codes(hierarchy: TestHierarchy, card: TestCard) -> None:
    hierarchy.revoke(123456789, reason=x509.ReasonFlags.superseded, revoked_at=T0)
    der = hierarchy.revoke(card.serial, reason=x509.ReasonFlags.affiliation_changed, revoked_at=T0)

    record = crl_import(der=der)

    assert (record.crl_number, record.entries, record.issuer_key_id) == (2, 2, hierarchy.signing_ca.key_id)
    stored = dict(RevokedCertificate.objects.values_list("serial", "reason"))
    assert stored == {"123456789": "superseded", card.serial: "affiliationChanged"}
    with pytest.raises(JpkiError) as caught:
        verify(card)
    assert caught.value.code == JpkiErrorCode.REVOKED
    audit = AuditEvent.objects.get(action="crl_imported")
    assert audit.subject_id == str(record.pk) and audit.new_values["entries"] == 2


def test_r03_a_certificate_not_on_the_crl_verifies_and_names_the_crl(hierarchy: TestHierarchy, card: TestCard) -> None:
    der = hierarchy.revoke(987654321, revoked_at=T0)
    record = crl_import(der=der)

    result = verify(card)

    assert result.revocation_source == f"crl #1 this_update {record.this_update.astimezone(UTC).isoformat()}"


def test_r03_crl_number_only_moves_forward(hierarchy: TestHierarchy) -> None:
    first = hierarchy.revoke(1, revoked_at=T0)
    second = hierarchy.revoke(2, revoked_at=T0)
    crl_import(der=second)

    for older_or_equal in (first, second):
        with pytest.raises(CrlImportError, match=r"CRL number \d is not newer than #2"):
            crl_import(der=older_or_equal)
    assert CrlImport.objects.count() == 1
    assert RevokedCertificate.objects.count() == 2


def test_r03_newer_crl_adds_to_the_store_and_repeats_nothing(hierarchy: TestHierarchy) -> None:
    crl_import(der=hierarchy.revoke(1, revoked_at=T0))
    crl_import(der=hierarchy.revoke(2, reason=x509.ReasonFlags.key_compromise, revoked_at=T0))

    assert sorted(RevokedCertificate.objects.values_list("serial", "reason")) == [("1", ""), ("2", "keyCompromise")]
    assert list(CrlImport.objects.order_by("crl_number").values_list("crl_number", "entries")) == [(1, 1), (2, 2)]


def test_r03_crl_signed_by_a_same_name_other_key_ca_is_refused(hierarchy: TestHierarchy) -> None:
    impostor = TestHierarchy.generate()
    assert impostor.signing_ca.certificate.subject == hierarchy.signing_ca.certificate.subject
    der = make_crl(impostor.signing_ca, [(5, T0, None)], number=99)

    with pytest.raises(CrlImportError, match="does not verify with any trusted signing-CA key"):
        crl_import(der=der)
    assert not RevokedCertificate.objects.exists() and not CrlImport.objects.exists()


def test_r03_crl_of_the_user_authentication_ca_is_refused(hierarchy: TestHierarchy) -> None:
    der = make_crl(hierarchy.auth_ca, [(5, T0, None)], number=1)
    with pytest.raises(CrlImportError, match="does not verify"):
        crl_import(der=der)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        ("garbage", "not a readable DER CRL"),
        ("no_number", "has no CRL number"),
        ("delta", "delta CRLs are not supported"),
        ("future", "is in the future"),
    ],
)
def test_r03_malformed_crls_are_refused_with_the_reason(hierarchy: TestHierarchy, mutate: str, message: str) -> None:
    ca = hierarchy.signing_ca
    start = datetime.now(UTC).replace(microsecond=0) + (timedelta(days=1) if mutate == "future" else timedelta())
    extensions: list[x509.ExtensionType] = []
    if mutate != "no_number":
        extensions.append(x509.CRLNumber(7))
    if mutate == "delta":
        extensions.append(x509.DeltaCRLIndicator(6))
    builder = x509.CertificateRevocationListBuilder(
        issuer_name=ca.certificate.subject, last_update=start, next_update=start + timedelta(days=1)
    )
    for extension in extensions:
        builder = builder.add_extension(extension, critical=isinstance(extension, x509.DeltaCRLIndicator))
    der = builder.sign(ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
    if mutate == "garbage":
        der = der[:20]

    with pytest.raises(CrlImportError, match=message):
        crl_import(der=der)


@pytest.mark.parametrize(
    "store",
    [pytest.param(_store_postgres, marks=pytest.mark.postgres, id="copy"), pytest.param(_store_bulk_create, id="bulk")],
)
def test_r03_both_store_paths_keep_entries_once_with_changes_applied(store: Callable[..., int]) -> None:
    later = T0 + timedelta(days=1)
    assert store("k", iter([("1", T0, ""), ("2", T0, "superseded"), ("1", T0, "")])) == 3
    assert store("k", iter([("2", later, "keyCompromise"), ("3", T0, "")])) == 2

    rows = RevokedCertificate.objects.filter(issuer_key_id="k").order_by("serial")
    assert [(r.serial, r.revoked_at, r.reason) for r in rows] == [
        ("1", T0, ""),
        ("2", later, "keyCompromise"),
        ("3", T0, ""),
    ]


@pytest.mark.postgres
def test_r03_lookup_is_one_probe_of_the_unique_index(hierarchy: TestHierarchy) -> None:
    entries = [(10**12 + i, T0, x509.ReasonFlags.affiliation_changed if i % 7 == 0 else None) for i in range(20_000)]
    crl_import(der=make_crl(hierarchy.signing_ca, entries, number=1))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE consents_revokedcertificate")

    query = revoked_entry_query(issuer_key_id=hierarchy.signing_ca.key_id, serial=str(10**12 + 4243))
    plan = query.explain()

    assert "unique_revoked_serial" in plan, plan
    assert "Index Scan" in plan or "Index Only Scan" in plan, plan
    assert "Seq Scan" not in plan and "Sort" not in plan, plan
    assert query.get().reason == ""
