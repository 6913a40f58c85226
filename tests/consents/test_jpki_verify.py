"""R3: a consent signature is verified (chain, dates, key usage, revocation) before anything else.

Real RSA keys, real certificates, real PKCS#1 v1.5 signatures: no mocks.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from django.utils import translation

from consents.jpki import JpkiError, JpkiErrorCode, VerifiedSignature, verify_consent_signature
from consents.jpki.profile import POLICY_PRODUCTION
from consents.jpki.testcard import CardHolder, TestCard, TestHierarchy, expiry_instant, issue_certificate
from consents.models import RevokedCertificate
from tests.factories import DriverRecordFactory

STATEMENT = "同意書 record=1 items=address,name nonce=5f1c".encode()
HOLDER = CardHolder(name="山田　太郎", address="東京都千代田区霞が関二丁目１番１号", birth_date=date(1980, 5, 17))
ISSUED = datetime(2025, 4, 1, 1, 0, tzinfo=UTC)
SIGNED = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)

# The test CA's current CRL is imported (tests/conftest.py): without one every signature is
# refused as revocation_status_unknown (test_jpki_revocation_unknown.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("jpki_crl")]


def verify(card: TestCard, *, statement: bytes = STATEMENT, signature: bytes | None = None, at: datetime = SIGNED):
    return verify_consent_signature(
        statement=statement,
        signature=card.sign(statement) if signature is None else signature,
        certificate_der=card.certificate_der,
        signed_at=at,
    )


def refused(card: TestCard, **kwargs: object) -> JpkiError:
    with pytest.raises(JpkiError) as caught:
        verify(card, **kwargs)  # type: ignore[arg-type]
    return caught.value


@pytest.fixture(scope="session")
def good_card(jpki_hierarchy: TestHierarchy, jpki_card_key: rsa.RSAPrivateKey) -> TestCard:
    return jpki_hierarchy.issue_card(HOLDER, issued_at=ISSUED, key=jpki_card_key)


@pytest.fixture(scope="session")
def untrusted_hierarchy() -> TestHierarchy:
    """Another JPKI-TEST hierarchy: the same CA names, other keys."""
    return TestHierarchy.generate()


def test_r03_good_signature_returns_the_verified_facts(good_card: TestCard, jpki_hierarchy: TestHierarchy) -> None:
    result = verify(good_card)

    assert isinstance(result, VerifiedSignature)
    assert result.serial == str(good_card.certificate.serial_number)
    assert result.issuer_key_id == jpki_hierarchy.signing_ca.key_id
    assert result.trust_anchor == f"JPKI-TEST signing CA {jpki_hierarchy.signing_ca.key_id}"
    assert result.not_before == ISSUED
    assert result.not_after == datetime(2029, 5, 17, 14, 59, 59, tzinfo=UTC)  # 5th birthday, 23:59:59 JST
    assert result.revocation_source.startswith("crl #0 this_update ")
    assert result.revocation_checked_at.tzinfo is not None
    assert (result.name, result.address, result.birth_date, result.sex) == (
        "山田　太郎",
        "東京都千代田区霞が関二丁目１番１号",
        date(1980, 5, 17),
        "1",
    )
    assert "山田" not in str(result.evidence())


def test_r03_bytes_from_the_database_are_accepted(good_card: TestCard) -> None:
    # BinaryField reads back as memoryview on PostgreSQL.
    result = verify_consent_signature(
        statement=memoryview(STATEMENT),  # type: ignore[arg-type]
        signature=memoryview(good_card.sign(STATEMENT)),  # type: ignore[arg-type]
        certificate_der=memoryview(good_card.certificate_der),  # type: ignore[arg-type]
        signed_at=SIGNED,
    )
    assert result.serial == good_card.serial


# --- unreadable_input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "certificate_der",
    [b"\x30\x82\x01\x00garbage", b"not a certificate at all", b""],
    ids=["truncated-der", "garbage", "empty"],
)
def test_r03_garbage_certificate_is_unreadable_input(good_card: TestCard, certificate_der: bytes) -> None:
    with pytest.raises(JpkiError) as caught:
        verify_consent_signature(
            statement=STATEMENT, signature=good_card.sign(STATEMENT), certificate_der=certificate_der, signed_at=SIGNED
        )
    assert caught.value.code == JpkiErrorCode.UNREADABLE_INPUT


def test_r03_cut_certificate_is_unreadable_input(good_card: TestCard) -> None:
    with pytest.raises(JpkiError) as caught:
        verify_consent_signature(
            statement=STATEMENT,
            signature=good_card.sign(STATEMENT),
            certificate_der=good_card.certificate_der[:-40],
            signed_at=SIGNED,
        )
    assert caught.value.code == JpkiErrorCode.UNREADABLE_INPUT


def test_r03_empty_signature_is_unreadable_input(good_card: TestCard) -> None:
    assert refused(good_card, signature=b"").code == JpkiErrorCode.UNREADABLE_INPUT


def test_r03_naive_signing_time_is_a_programming_error(good_card: TestCard) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verify(good_card, at=datetime(2026, 6, 1, 12, 0))


# --- not_signing_certificate --------------------------------------------------------------------


def test_r03_certificate_from_the_user_authentication_ca_is_refused(
    jpki_hierarchy: TestHierarchy, jpki_card_key: rsa.RSAPrivateKey
) -> None:
    card = issue_certificate(jpki_hierarchy.auth_ca, HOLDER, issued_at=ISSUED, key=jpki_card_key)
    error = refused(card)
    assert error.code == JpkiErrorCode.NOT_SIGNING_CERTIFICATE
    assert "署名用電子証明書" in error.message_ja


def test_r03_key_usage_without_non_repudiation_is_not_a_signing_certificate(
    jpki_hierarchy: TestHierarchy, jpki_card_key: rsa.RSAPrivateKey
) -> None:
    card = jpki_hierarchy.issue_card(HOLDER, issued_at=ISSUED, key=jpki_card_key, non_repudiation=False)
    assert refused(card).code == JpkiErrorCode.NOT_SIGNING_CERTIFICATE


def test_r03_key_usage_without_digital_signature_is_not_a_signing_certificate(
    jpki_hierarchy: TestHierarchy, jpki_card_key: rsa.RSAPrivateKey
) -> None:
    card = jpki_hierarchy.issue_card(HOLDER, issued_at=ISSUED, key=jpki_card_key, digital_signature=False)
    assert refused(card).code == JpkiErrorCode.NOT_SIGNING_CERTIFICATE


def test_r03_production_policy_is_refused_by_the_test_trust(
    jpki_hierarchy: TestHierarchy, jpki_card_key: rsa.RSAPrivateKey
) -> None:
    card = jpki_hierarchy.issue_card(HOLDER, issued_at=ISSUED, key=jpki_card_key, policy=POLICY_PRODUCTION)
    assert refused(card).code == JpkiErrorCode.NOT_SIGNING_CERTIFICATE


def test_r03_certificate_without_the_four_items_is_not_a_signing_certificate(
    jpki_hierarchy: TestHierarchy, jpki_card_key: rsa.RSAPrivateKey, good_card: TestCard
) -> None:
    builder = (
        x509.CertificateBuilder()
        .subject_name(good_card.certificate.subject)
        .issuer_name(good_card.certificate.issuer)
        .public_key(jpki_card_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(ISSUED)
        .not_valid_after(ISSUED + timedelta(days=1000))
    )
    for extension in good_card.certificate.extensions:
        if not isinstance(extension.value, x509.SubjectAlternativeName):
            builder = builder.add_extension(extension.value, extension.critical)
    certificate = builder.sign(jpki_hierarchy.signing_ca.key, hashes.SHA256())
    card = TestCard(jpki_card_key, certificate, HOLDER)
    assert refused(card).code == JpkiErrorCode.NOT_SIGNING_CERTIFICATE


# --- chain_not_trusted --------------------------------------------------------------------------


def test_r03_same_name_other_key_is_not_trusted(
    untrusted_hierarchy: TestHierarchy, jpki_card_key: rsa.RSAPrivateKey, jpki_hierarchy: TestHierarchy
) -> None:
    # Same issuer name as the trusted CA, byte for byte: only the key differs.
    assert untrusted_hierarchy.signing_ca.certificate.subject == jpki_hierarchy.signing_ca.certificate.subject
    card = untrusted_hierarchy.issue_card(HOLDER, issued_at=ISSUED, key=jpki_card_key)
    error = refused(card)
    assert error.code == JpkiErrorCode.CHAIN_NOT_TRUSTED
    assert "信頼" in error.message_ja


# --- key_too_small ------------------------------------------------------------------------------


def test_r03_1024_bit_key_is_too_small(jpki_hierarchy: TestHierarchy) -> None:
    card = jpki_hierarchy.issue_card(HOLDER, issued_at=ISSUED, key_bits=1024)
    assert refused(card).code == JpkiErrorCode.KEY_TOO_SMALL


# --- not_valid_at_signing_time ------------------------------------------------------------------


@pytest.fixture(scope="session")
def card_ending_2027_03_31(jpki_hierarchy: TestHierarchy, jpki_card_key: rsa.RSAPrivateKey) -> TestCard:
    return jpki_hierarchy.issue_card(
        HOLDER, issued_at=ISSUED, not_after=expiry_instant(date(2027, 3, 31)), key=jpki_card_key
    )


def test_r03_last_day_is_valid_until_23_59_59_jst(card_ending_2027_03_31: TestCard) -> None:
    last_second = datetime(2027, 3, 31, 14, 59, 59, tzinfo=UTC)
    assert last_second.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%H:%M:%S") == "23:59:59"
    assert verify(card_ending_2027_03_31, at=last_second).serial == card_ending_2027_03_31.serial
    # Within that last second too (certificate times have one-second precision).
    assert verify(card_ending_2027_03_31, at=last_second + timedelta(milliseconds=999))


def test_r03_midnight_jst_after_the_last_day_is_refused(card_ending_2027_03_31: TestCard) -> None:
    midnight_jst = datetime(2027, 4, 1, 0, 0, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert midnight_jst.astimezone(UTC) == datetime(2027, 3, 31, 15, 0, 0, tzinfo=UTC)
    assert refused(card_ending_2027_03_31, at=midnight_jst).code == JpkiErrorCode.NOT_VALID_AT_SIGNING_TIME


def test_r03_signature_before_issue_is_refused(good_card: TestCard) -> None:
    error = refused(good_card, at=ISSUED - timedelta(seconds=1))
    assert error.code == JpkiErrorCode.NOT_VALID_AT_SIGNING_TIME


# --- revoked ------------------------------------------------------------------------------------


def test_r03_revoked_certificate_is_refused(good_card: TestCard, jpki_hierarchy: TestHierarchy) -> None:
    RevokedCertificate.objects.create(
        issuer_key_id=jpki_hierarchy.signing_ca.key_id,
        serial=good_card.serial,
        revoked_at=SIGNED - timedelta(days=3),
        reason="affiliationChanged",
    )
    error = refused(good_card)
    assert error.code == JpkiErrorCode.REVOKED
    assert "失効" in error.message_ja


def test_r03_revocation_after_signing_does_not_undo_the_signature(
    good_card: TestCard, jpki_hierarchy: TestHierarchy
) -> None:
    # The holder moved a day after signing: the signature was made with a valid certificate.
    RevokedCertificate.objects.create(
        issuer_key_id=jpki_hierarchy.signing_ca.key_id,
        serial=good_card.serial,
        revoked_at=SIGNED + timedelta(days=1),
        reason="affiliationChanged",
    )
    assert verify(good_card).serial == good_card.serial


def test_r03_key_compromise_counts_whenever_it_was_declared(good_card: TestCard, jpki_hierarchy: TestHierarchy) -> None:
    RevokedCertificate.objects.create(
        issuer_key_id=jpki_hierarchy.signing_ca.key_id,
        serial=good_card.serial,
        revoked_at=SIGNED + timedelta(days=1),
        reason="keyCompromise",
    )
    assert refused(good_card).code == JpkiErrorCode.REVOKED


def test_r03_same_serial_revoked_under_another_ca_key_does_not_count(good_card: TestCard) -> None:
    RevokedCertificate.objects.create(
        issuer_key_id="00" * 20, serial=good_card.serial, revoked_at=SIGNED - timedelta(days=3), reason=""
    )
    assert verify(good_card).serial == good_card.serial


# --- signature_mismatch -------------------------------------------------------------------------


def test_r03_tampered_statement_is_a_signature_mismatch(good_card: TestCard) -> None:
    signature = good_card.sign(STATEMENT)
    tampered = STATEMENT.replace(b"address,name", b"address,name,birth_date")
    error = refused(good_card, statement=tampered, signature=signature)
    assert error.code == JpkiErrorCode.SIGNATURE_MISMATCH


def test_r03_signature_by_another_key_is_a_signature_mismatch(good_card: TestCard) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    impostor = TestCard(other, good_card.certificate, HOLDER)
    assert refused(good_card, signature=impostor.sign(STATEMENT)).code == JpkiErrorCode.SIGNATURE_MISMATCH


# --- messages -----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", list(JpkiErrorCode))
def test_r03_every_refusal_speaks_japanese_and_english(code: JpkiErrorCode) -> None:
    error = JpkiError(code, "detail for developers")
    assert error.message_ja != error.message_en
    assert any("\u3040" <= c <= "\u30ff" or "\u4e00" <= c <= "\u9fff" for c in error.message_ja)
    assert error.message_en.isascii()
    with translation.override("ja"):
        assert str(error) == error.message_ja
    with translation.override("en"):
        assert str(error) == error.message == error.message_en
    assert "detail" not in str(error)


def test_r03_refusal_never_carries_the_certificates_personal_data(
    untrusted_hierarchy: TestHierarchy, jpki_card_key: rsa.RSAPrivateKey
) -> None:
    card = untrusted_hierarchy.issue_card(HOLDER, issued_at=ISSUED, key=jpki_card_key)
    error = refused(card)
    for text in (error.message_ja, error.message_en, error.detail, repr(error)):
        assert "山田" not in text and "千代田" not in text and "1980" not in text


def test_r03_card_issued_for_a_record_carries_its_data_and_verifies(
    issue_card_for: Callable[..., TestCard],
) -> None:
    record = DriverRecordFactory(name="高橋　花子")
    card = issue_card_for(record)
    result = verify(card, at=datetime.now(UTC))
    assert (result.name, result.address, result.birth_date) == (record.name, record.address, record.birth_date)
