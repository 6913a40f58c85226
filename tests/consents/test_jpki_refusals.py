"""R3: every way a certificate can fail to be a JPKI signing certificate, each refused with the code
the clerk sees. The profile comes from DOMAIN.md ("Signing certificate"): RSA-2048, key usage
digitalSignature + nonRepudiation (critical), the signing policy, not a CA, one self-signed
level (no intermediate), issued by a signing-CA key (never the user-authentication CA), valid
until 23:59:59 JST of its last day.

Each faulty certificate is a good one rebuilt with one change, signed by a real CA key
(tests/consents/jpki_certs.py); each test also shows the unchanged certificate verifies, so the
one change is what is refused.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from consents.jpki import ConsentSignatureVerifier, JpkiError, JpkiErrorCode, verify_consent_signature
from consents.jpki import trust as trust_module
from consents.jpki.crl import crl_import
from consents.jpki.profile import CA_OU, OID_ADDRESS, POLICY_TEST
from consents.jpki.revocation import CrlRevocationChecker
from consents.jpki.testcard import AUTH_CA_OU, CardHolder, TestCard, TestHierarchy, make_ca, make_crl
from consents.jpki.trust import TrustAnchor, TrustStore, signing_anchor
from consents.models import CrlImport
from tests.consents.jpki_certs import Signer, intermediate_ca, rebuilt

JST = ZoneInfo("Asia/Tokyo")
STATEMENT = "同意書 record=3 items=address,name nonce=refusals".encode()
HOLDER = CardHolder(name="山本　和子", address="東京都港区芝公園四丁目２番８号", birth_date=date(1980, 5, 17), sex="2")
ISSUED = datetime(2025, 4, 1, 1, 0, tzinfo=UTC)  # 10:00 JST
SIGNED = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
REAL_ROOTS = Path(trust_module.__file__).parent / "roots"  # the same files as ../shared/jpki/

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("jpki_crl")]


@pytest.fixture(scope="module")
def good(jpki_hierarchy: TestHierarchy, jpki_card_key: rsa.RSAPrivateKey) -> TestCard:
    return jpki_hierarchy.issue_card(HOLDER, issued_at=ISSUED, key=jpki_card_key)


def verify(signer: Signer | TestCard, *, at: datetime = SIGNED, store: TrustStore | None = None) -> object:
    arguments = {
        "statement": STATEMENT,
        "signature": signer.sign(STATEMENT),
        "certificate_der": signer.certificate_der,
        "signed_at": at,
    }
    if store is None:
        return verify_consent_signature(**arguments)  # type: ignore[arg-type]
    return ConsentSignatureVerifier(trust=store, revocation=CrlRevocationChecker()).verify(**arguments)  # type: ignore[arg-type]


def refusal(signer: Signer | TestCard, **kwargs: object) -> JpkiErrorCode:
    with pytest.raises(JpkiError) as caught:
        verify(signer, **kwargs)  # type: ignore[arg-type]
    return caught.value.code


def test_the_good_certificate_verifies(good: TestCard, jpki_hierarchy: TestHierarchy) -> None:
    """The control for every test below: the template itself, rebuilt unchanged, verifies."""
    assert verify(good).serial == good.serial  # type: ignore[attr-defined]
    same = rebuilt(good.certificate, jpki_hierarchy.signing_ca, key=good.key)
    assert verify(same).serial == str(same.certificate.serial_number)  # type: ignore[attr-defined]


# --- the user-authentication CA: never for a consent -------------------------------------------


@pytest.mark.parametrize("stem", ["auth_ca_2015", "auth_ca_2023"])
def test_r03_a_real_user_authentication_root_cannot_be_put_in_a_trust_store(stem: str) -> None:
    real = x509.load_pem_x509_certificate((REAL_ROOTS / f"{stem}.pem").read_bytes())
    with pytest.raises(ValueError, match="user-authentication"):
        TrustStore(name="production", policy=POLICY_TEST, anchors=(TrustAnchor(stem, real),))


def test_r03_the_test_user_authentication_ca_cannot_be_put_in_a_trust_store(jpki_hierarchy: TestHierarchy) -> None:
    with pytest.raises(ValueError, match="user-authentication"):
        TrustStore(
            name="test",
            policy=POLICY_TEST,
            anchors=(
                TrustAnchor("sign", jpki_hierarchy.signing_ca.certificate),
                TrustAnchor("auth", jpki_hierarchy.auth_ca.certificate),
            ),
        )


def test_r03_a_certificate_under_a_user_authentication_intermediate_is_not_a_signing_certificate(
    good: TestCard, jpki_hierarchy: TestHierarchy
) -> None:
    """A user-authentication CA in the chain, even under the trusted signing root."""
    auth_intermediate = intermediate_ca(jpki_hierarchy.signing_ca, units=AUTH_CA_OU, not_before=ISSUED)
    leaf = rebuilt(good.certificate, auth_intermediate, key=good.key)
    assert refusal(leaf) == JpkiErrorCode.NOT_SIGNING_CERTIFICATE


def test_r03_a_user_authentication_ca_known_by_key_is_refused_whatever_its_name(
    good: TestCard, jpki_hierarchy: TestHierarchy
) -> None:
    """CAs are told apart by key, never by name: a user-authentication key that issues under the
    signing CA's name is still the user-authentication CA."""
    auth_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    auth_named_like_signing = make_ca(units=CA_OU, key=auth_key)
    store = TrustStore(
        name="test",
        policy=POLICY_TEST,
        anchors=(signing_anchor("sign", jpki_hierarchy.signing_ca.certificate),),
        user_authentication_cas=(TrustAnchor("auth, renamed", auth_named_like_signing.certificate),),
    )
    leaf = rebuilt(good.certificate, auth_named_like_signing, key=good.key)
    assert leaf.certificate.issuer == jpki_hierarchy.signing_ca.certificate.subject
    assert refusal(leaf, store=store) == JpkiErrorCode.NOT_SIGNING_CERTIFICATE
    assert verify(good, store=store).serial == good.serial  # type: ignore[attr-defined]


# --- the key: RSA only ---------------------------------------------------------------------------


@pytest.mark.parametrize("curve", [ec.SECP256R1(), ec.SECP384R1()], ids=["P-256", "P-384"])
def test_r03_a_non_rsa_key_is_not_a_signing_certificate(
    good: TestCard, jpki_hierarchy: TestHierarchy, curve: ec.EllipticCurve
) -> None:
    leaf = rebuilt(good.certificate, jpki_hierarchy.signing_ca, key=ec.generate_private_key(curve))
    assert refusal(leaf) == JpkiErrorCode.NOT_SIGNING_CERTIFICATE


# --- key usage and certificate policy ----------------------------------------------------------


def test_r03_no_key_usage_extension_is_not_a_signing_certificate(good: TestCard, jpki_hierarchy: TestHierarchy) -> None:
    leaf = rebuilt(good.certificate, jpki_hierarchy.signing_ca, key=good.key, drop=(x509.KeyUsage,))
    assert refusal(leaf) == JpkiErrorCode.NOT_SIGNING_CERTIFICATE


def test_r03_no_certificate_policies_extension_is_not_a_signing_certificate(
    good: TestCard, jpki_hierarchy: TestHierarchy
) -> None:
    leaf = rebuilt(good.certificate, jpki_hierarchy.signing_ca, key=good.key, drop=(x509.CertificatePolicies,))
    assert refusal(leaf) == JpkiErrorCode.NOT_SIGNING_CERTIFICATE


def test_r03_key_usage_not_critical_is_not_a_signing_certificate(good: TestCard, jpki_hierarchy: TestHierarchy) -> None:
    usage = good.certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    leaf = rebuilt(good.certificate, jpki_hierarchy.signing_ca, key=good.key, replace=((usage, False),))
    assert refusal(leaf) == JpkiErrorCode.NOT_SIGNING_CERTIFICATE


def test_r03_the_signing_policy_among_others_is_accepted(good: TestCard, jpki_hierarchy: TestHierarchy) -> None:
    policies = x509.CertificatePolicies(
        [
            x509.PolicyInformation(x509.ObjectIdentifier("1.2.392.200149.8.5.1.0.99"), None),
            x509.PolicyInformation(POLICY_TEST, None),
        ]
    )
    leaf = rebuilt(good.certificate, jpki_hierarchy.signing_ca, key=good.key, replace=((policies, False),))
    assert verify(leaf).serial == str(leaf.certificate.serial_number)  # type: ignore[attr-defined]


# --- a leaf marked as a CA --------------------------------------------------------------------


@pytest.mark.parametrize("critical", [True, False])
def test_r03_a_leaf_marked_as_a_ca_is_not_a_signing_certificate(
    good: TestCard, jpki_hierarchy: TestHierarchy, critical: bool
) -> None:
    constraints = x509.BasicConstraints(ca=True, path_length=None)
    leaf = rebuilt(good.certificate, jpki_hierarchy.signing_ca, key=good.key, replace=((constraints, critical),))
    assert refusal(leaf) == JpkiErrorCode.NOT_SIGNING_CERTIFICATE


def test_r03_a_leaf_without_basic_constraints_is_accepted(good: TestCard, jpki_hierarchy: TestHierarchy) -> None:
    """RFC 5280: an end entity may omit basicConstraints; absent means "not a CA"."""
    leaf = rebuilt(good.certificate, jpki_hierarchy.signing_ca, key=good.key, drop=(x509.BasicConstraints,))
    assert verify(leaf).serial == str(leaf.certificate.serial_number)  # type: ignore[attr-defined]


# --- the path ------------------------------------------------------------------------------------


def test_r03_a_certificate_naming_no_authority_key_is_still_matched_to_its_issuer_by_signature(
    good: TestCard, jpki_hierarchy: TestHierarchy
) -> None:
    leaf = rebuilt(good.certificate, jpki_hierarchy.signing_ca, key=good.key, drop=(x509.AuthorityKeyIdentifier,))
    result = verify(leaf)
    assert result.issuer_key_id == jpki_hierarchy.signing_ca.key_id  # type: ignore[attr-defined]


def test_r03_a_path_that_fails_under_a_trusted_issuer_is_not_trusted(good: TestCard) -> None:
    """The trusted key did sign the certificate, but its own certificate had expired when the
    holder signed, though the holder's certificate had not: the path is not valid then."""
    expired_root = make_ca(not_before=datetime(2015, 1, 1, tzinfo=UTC), years=10)  # to 2024-12-29
    store = TrustStore(name="test", policy=POLICY_TEST, anchors=(signing_anchor("old", expired_root.certificate),))
    leaf = rebuilt(
        good.certificate,
        expired_root,
        key=good.key,
        not_before=datetime(2024, 1, 1, tzinfo=UTC),
        not_after=datetime(2028, 1, 1, tzinfo=UTC),
    )
    assert store.issuer_of(leaf.certificate) is not None  # the issuer is trusted, by its key
    signed_before_the_root_expired = datetime(2024, 6, 1, tzinfo=UTC)
    assert refusal(leaf, at=datetime(2025, 6, 1, tzinfo=UTC), store=store) == JpkiErrorCode.CHAIN_NOT_TRUSTED
    # The control: the same certificate and store, signed while the root was still valid.
    crl_import(der=make_crl(expired_root, [], number=1), trust=store)
    assert verify(leaf, at=signed_before_the_root_expired, store=store)


def test_r03_a_three_level_chain_is_not_trusted(good: TestCard, jpki_hierarchy: TestHierarchy) -> None:
    """JPKI's signing CA is one self-signed level: a certificate from an intermediate, even one
    the trusted root issued, is not a JPKI signing certificate's path."""
    intermediate = intermediate_ca(jpki_hierarchy.signing_ca, units=CA_OU, not_before=ISSUED - timedelta(days=1))
    leaf = rebuilt(good.certificate, intermediate, key=good.key)
    assert refusal(leaf) == JpkiErrorCode.CHAIN_NOT_TRUSTED


# --- the last valid day, in Asia/Tokyo --------------------------------------------------------
# DOMAIN.md: valid until the 5th birthday after issue, to 23:59:59 JST. Issued 2025-04-01 to a
# holder born 1980-05-17: birthdays 2025, 2026, 2027, 2028, 2029 -> the last valid day is
# 2029-05-17 (Japan date), whatever the server's time zone.


@pytest.fixture(scope="module")
def card_of_the_rule(jpki_hierarchy: TestHierarchy, jpki_card_key: rsa.RSAPrivateKey) -> TestCard:
    return jpki_hierarchy.issue_card(HOLDER, issued_at=ISSUED, key=jpki_card_key)  # its end from the rule


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2029, 5, 17, 0, 0, 0, tzinfo=JST),
        datetime(2029, 5, 17, 12, 0, 0, tzinfo=JST),
        datetime(2029, 5, 17, 23, 59, 59, tzinfo=JST),
        datetime(2029, 5, 17, 23, 59, 59, 999_000, tzinfo=JST),
    ],
    ids=["00:00:00", "12:00:00", "23:59:59", "23:59:59.999"],
)
def test_r03_the_last_valid_day_itself_is_valid_in_japan_time(card_of_the_rule: TestCard, moment: datetime) -> None:
    assert verify(card_of_the_rule, at=moment).serial == card_of_the_rule.serial  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2029, 5, 18, 0, 0, 0, tzinfo=JST),
        # Still 17 May in UTC (20:00Z): a check by UTC date would let this through.
        datetime(2029, 5, 18, 5, 0, 0, tzinfo=JST),
        datetime(2029, 5, 18, 23, 59, 59, tzinfo=JST),
    ],
    ids=["00:00:00", "05:00:00 (17 May UTC)", "23:59:59"],
)
def test_r03_the_day_after_the_last_valid_day_is_refused_in_japan_time(
    card_of_the_rule: TestCard, moment: datetime
) -> None:
    assert refusal(card_of_the_rule, at=moment) == JpkiErrorCode.NOT_VALID_AT_SIGNING_TIME


def test_r03_a_server_in_another_time_zone_draws_the_same_line(card_of_the_rule: TestCard) -> None:
    """The same instants, written in New York time: the answer depends on the instant only."""
    new_york = ZoneInfo("America/New_York")
    last_second = datetime(2029, 5, 17, 23, 59, 59, tzinfo=JST).astimezone(new_york)
    assert last_second.date() == date(2029, 5, 17) and last_second.hour == 10
    assert verify(card_of_the_rule, at=last_second)
    assert refusal(card_of_the_rule, at=last_second + timedelta(seconds=1)) == JpkiErrorCode.NOT_VALID_AT_SIGNING_TIME


# --- what the result rests on ---------------------------------------------------------------


def test_r03_the_first_instant_of_validity_is_valid(good: TestCard) -> None:
    assert verify(good, at=good.certificate.not_valid_before_utc).serial == good.serial  # type: ignore[attr-defined]


def test_r03_a_one_byte_statement_is_verified_like_any_other(good: TestCard) -> None:
    result = verify_consent_signature(
        statement=b"x", signature=good.sign(b"x"), certificate_der=good.certificate_der, signed_at=SIGNED
    )
    assert result.serial == good.serial


def test_r03_an_item_given_twice_is_not_a_signing_certificate(good: TestCard, jpki_hierarchy: TestHierarchy) -> None:
    """Each of the four items appears once (DOMAIN.md): two addresses leave no one to trust."""
    san = good.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    names = list(san)
    address = next(n for n in names if isinstance(n, x509.OtherName) and n.type_id == OID_ADDRESS)
    doubled = x509.SubjectAlternativeName([*names, x509.OtherName(OID_ADDRESS, address.value)])
    leaf = rebuilt(good.certificate, jpki_hierarchy.signing_ca, key=good.key, replace=((doubled, False),))
    assert refusal(leaf) == JpkiErrorCode.NOT_SIGNING_CERTIFICATE


def test_r03_the_evidence_names_what_the_check_rested_on_and_no_personal_data(
    good: TestCard, jpki_hierarchy: TestHierarchy, jpki_crl: CrlImport
) -> None:
    result = verify_consent_signature(
        statement=STATEMENT, signature=good.sign(STATEMENT), certificate_der=good.certificate_der, signed_at=SIGNED
    )
    evidence = result.evidence()
    key_id = jpki_hierarchy.signing_ca.key_id
    assert evidence == {
        "serial": str(good.certificate.serial_number),
        "issuer_key_id": key_id,
        "not_before": "2025-04-01T01:00:00+00:00",
        "not_after": "2029-05-17T14:59:59+00:00",
        "trust_anchor": f"JPKI-TEST signing CA {key_id}",
        "revocation_source": f"crl #0 this_update {jpki_crl.this_update.isoformat()}",
        "revocation_checked_at": evidence["revocation_checked_at"],
    }
    assert datetime.fromisoformat(evidence["revocation_checked_at"]) >= jpki_crl.imported_at
    assert (result.name_substituted, result.address_substituted, result.sex) == ("", "", "2")
