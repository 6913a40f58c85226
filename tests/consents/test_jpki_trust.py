"""R3: the trust store. Real J-LIS roots pinned by fingerprint; issuers chosen by key, never name."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from consents.jpki import ConsentSignatureVerifier, JpkiError, JpkiErrorCode, verify_consent_signature
from consents.jpki import trust as trust_module
from consents.jpki.crl import crl_import
from consents.jpki.profile import POLICY_PRODUCTION, POLICY_TEST
from consents.jpki.revocation import CrlRevocationChecker
from consents.jpki.testcard import (
    CardHolder,
    CertificateAuthority,
    TestCard,
    TestHierarchy,
    issue_certificate,
    make_ca,
    make_crl,
)
from consents.jpki.trust import (
    TrustAnchor,
    TrustStore,
    fingerprint_sha256,
    key_id_of,
    production_trust_store,
    signing_anchor,
    trust_store,
)
from consents.models import CrlImport

# Computed with `openssl x509 -noout -fingerprint -sha256 -in ../shared/jpki/<file>`.
PINNED = {
    "sign_ca_2015": "19:64:54:05:A1:FE:14:37:74:34:BD:55:95:76:28:AC:40:38:55:7C:54:24:03:A2:24:3F:21:C7:06:FC:93:55",
    "sign_ca_2023": "D2:27:F6:CD:E1:1D:35:C5:25:21:78:F1:06:F8:43:D2:46:51:94:49:75:41:3B:53:9F:A2:FB:68:DB:FA:36:5F",
    "auth_ca_2015": "4D:CF:C4:CA:0A:AF:9F:B2:A3:08:1B:3F:0C:99:1C:32:0B:3A:CC:00:86:67:A3:41:EE:AE:C5:AF:1D:58:CA:7D",
    "auth_ca_2023": "64:11:4F:29:62:0C:24:ED:26:31:D4:64:76:A0:40:E7:EE:74:0D:95:60:89:C0:0B:03:6A:6A:81:18:C3:22:B5",
}
ROOTS = Path(trust_module.__file__).parent / "roots"
HOLDER = CardHolder(name="佐藤　花子", address="大阪府大阪市北区梅田一丁目１番", birth_date=date(1990, 2, 3), sex="2")
ISSUED = datetime(2024, 4, 1, tzinfo=UTC)
SIGNED = datetime(2025, 6, 1, tzinfo=UTC)
STATEMENT = b"consent statement bytes"

pytestmark = pytest.mark.django_db


def real_root(stem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate((ROOTS / f"{stem}.pem").read_bytes())


def lookalike_of(real: x509.Certificate, key: rsa.RSAPrivateKey) -> CertificateAuthority:
    """A root with the real root's name, validity and extensions, but another key."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(real.subject)
        .issuer_name(real.issuer)
        .public_key(key.public_key())
        .serial_number(real.serial_number)
        .not_valid_before(real.not_valid_before_utc)
        .not_valid_after(real.not_valid_after_utc)
    )
    for extension in real.extensions:
        value = extension.value
        if isinstance(value, x509.SubjectKeyIdentifier):
            value = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        builder = builder.add_extension(value, extension.critical)
    return CertificateAuthority(key, builder.sign(key, hashes.SHA256()))


def jpki_like_card(ca: CertificateAuthority, key: rsa.RSAPrivateKey) -> TestCard:
    """A card shaped like a real J-LIS one: critical certificate policy, IAN, CRL DP and OCSP AIA."""
    base = issue_certificate(ca, HOLDER, issued_at=ISSUED, key=key, policy=POLICY_PRODUCTION).certificate
    builder = (
        x509.CertificateBuilder()
        .subject_name(base.subject)
        .issuer_name(base.issuer)
        .public_key(key.public_key())
        .serial_number(base.serial_number)
        .not_valid_before(base.not_valid_before_utc)
        .not_valid_after(base.not_valid_after_utc)
    )
    for extension in base.extensions:
        if isinstance(extension.value, x509.BasicConstraints):
            continue
        critical = True if isinstance(extension.value, x509.CertificatePolicies) else extension.critical
        builder = builder.add_extension(extension.value, critical)
    builder = (
        builder.add_extension(
            x509.IssuerAlternativeName(
                [x509.DirectoryName(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "公的個人認証サービス")]))]
            ),
            critical=False,
        )
        .add_extension(
            x509.CRLDistributionPoints([x509.DistributionPoint([x509.DirectoryName(base.issuer)], None, None, None)]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        x509.AuthorityInformationAccessOID.OCSP,
                        x509.UniformResourceIdentifier("http://ocsp.example.jp"),
                    )
                ]
            ),
            critical=False,
        )
    )
    return TestCard(key, builder.sign(ca.key, hashes.SHA256()), HOLDER)


def verify_with(store: TrustStore, card: TestCard) -> object:
    verifier = ConsentSignatureVerifier(trust=store, revocation=CrlRevocationChecker())
    return verifier.verify(
        statement=STATEMENT, signature=card.sign(STATEMENT), certificate_der=card.certificate_der, signed_at=SIGNED
    )


@pytest.fixture(scope="session")
def ca_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize("stem", sorted(PINNED))
def test_r03_shipped_real_roots_match_their_pinned_fingerprints(stem: str) -> None:
    assert fingerprint_sha256(real_root(stem)) == PINNED[stem]


def test_r03_production_trusts_exactly_the_two_real_signing_roots() -> None:
    store = production_trust_store()
    assert store.policy == POLICY_PRODUCTION
    assert [a.description for a in store.anchors] == [
        "J-LIS sign_ca_2015 0d034cbb34d0714f45e45a1cafd8fd143fab54a7",
        "J-LIS sign_ca_2023 d21ea55895617e93adbf966b941ab4edf653f08f",
    ]
    assert [fingerprint_sha256(a.certificate) for a in store.anchors] == [
        PINNED["sign_ca_2015"],
        PINNED["sign_ca_2023"],
    ]
    # The two generations share one name: only the key tells them apart.
    assert store.anchors[0].certificate.subject == store.anchors[1].certificate.subject
    assert {fingerprint_sha256(a.certificate) for a in store.user_authentication_cas} == {
        PINNED["auth_ca_2015"],
        PINNED["auth_ca_2023"],
    }


def test_r03_a_tampered_root_file_stops_the_production_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for pem in ROOTS.glob("*.pem"):
        shutil.copy(pem, tmp_path / pem.name)
    shutil.copy(ROOTS / "auth_ca_2023.pem", tmp_path / "sign_ca_2023.pem")
    monkeypatch.setattr(trust_module, "ROOTS_DIR", tmp_path)
    with pytest.raises(ImproperlyConfigured, match="sign_ca_2023"):
        production_trust_store()


@pytest.mark.parametrize("stem", ["auth_ca_2015", "auth_ca_2023"])
def test_r03_real_user_authentication_root_is_refused_as_a_consent_anchor(stem: str) -> None:
    with pytest.raises(ValueError, match="user-authentication"):
        signing_anchor(stem, real_root(stem))


def test_r03_user_authentication_certificate_is_refused_and_its_root_cannot_slip_into_the_store(
    jpki_hierarchy: TestHierarchy, jpki_card_key: rsa.RSAPrivateKey
) -> None:
    with pytest.raises(ValueError, match="user-authentication"):
        TrustStore(
            name="test",
            policy=POLICY_TEST,
            anchors=(
                TrustAnchor("auth", jpki_hierarchy.auth_ca.certificate),
                TrustAnchor("sign", jpki_hierarchy.signing_ca.certificate),
            ),
        )
    store = TrustStore(
        name="test",
        policy=POLICY_TEST,
        anchors=(TrustAnchor("sign", jpki_hierarchy.signing_ca.certificate),),
        user_authentication_cas=(TrustAnchor("auth", jpki_hierarchy.auth_ca.certificate),),
    )
    card = issue_certificate(jpki_hierarchy.auth_ca, HOLDER, issued_at=ISSUED, key=jpki_card_key)
    with pytest.raises(JpkiError) as caught:
        verify_with(store, card)
    assert caught.value.code == JpkiErrorCode.NOT_SIGNING_CERTIFICATE


def test_r03_root_with_the_real_name_and_another_key_is_refused(
    ca_key: rsa.RSAPrivateKey, jpki_card_key: rsa.RSAPrivateKey
) -> None:
    impostor = lookalike_of(real_root("sign_ca_2023"), ca_key)
    card = jpki_like_card(impostor, jpki_card_key)
    assert card.certificate.issuer == real_root("sign_ca_2023").subject
    with pytest.raises(JpkiError) as caught:
        verify_with(production_trust_store(), card)
    assert caught.value.code == JpkiErrorCode.CHAIN_NOT_TRUSTED


def test_r03_real_root_profile_and_real_card_profile_pass_the_path_policy(
    ca_key: rsa.RSAPrivateKey, jpki_card_key: rsa.RSAPrivateKey
) -> None:
    """Control for the test above: trusted by key, the same shapes verify (critical policy and all)."""
    root = lookalike_of(real_root("sign_ca_2023"), ca_key)
    store = TrustStore(
        name="production", policy=POLICY_PRODUCTION, anchors=(signing_anchor("lookalike", root.certificate),)
    )
    crl_import(der=make_crl(root, [], number=1), trust=store)  # its current CRL: revocation is known
    result = verify_with(store, jpki_like_card(root, jpki_card_key))
    assert result.issuer_key_id == key_id_of(root.certificate)  # type: ignore[attr-defined]
    assert result.sex == "2"  # type: ignore[attr-defined]


def test_r03_root_with_the_right_key_and_another_name_is_refused(
    jpki_hierarchy: TestHierarchy, jpki_card_key: rsa.RSAPrivateKey
) -> None:
    renamed = make_ca(organisation="JPKI-OTHER", key=jpki_hierarchy.signing_ca.key)
    assert key_id_of(renamed.certificate) == jpki_hierarchy.signing_ca.key_id
    store = TrustStore(name="test", policy=POLICY_TEST, anchors=(signing_anchor("renamed", renamed.certificate),))
    card = jpki_hierarchy.issue_card(HOLDER, issued_at=ISSUED, key=jpki_card_key)
    with pytest.raises(JpkiError) as caught:
        verify_with(store, card)
    assert caught.value.code == JpkiErrorCode.CHAIN_NOT_TRUSTED


def test_r03_the_setting_chooses_the_store(
    jpki_hierarchy: TestHierarchy, jpki_card_key: rsa.RSAPrivateKey, jpki_crl: CrlImport
) -> None:
    card = jpki_hierarchy.issue_card(HOLDER, issued_at=ISSUED, key=jpki_card_key)
    signature = card.sign(STATEMENT)
    assert trust_store().name == "test"
    assert verify_consent_signature(
        statement=STATEMENT, signature=signature, certificate_der=card.certificate_der, signed_at=SIGNED
    )
    with override_settings(JPKI_TRUST="production"):
        assert trust_store().name == "production"
        with pytest.raises(JpkiError) as caught:
            verify_consent_signature(
                statement=STATEMENT, signature=signature, certificate_der=card.certificate_der, signed_at=SIGNED
            )
        assert caught.value.code == JpkiErrorCode.CHAIN_NOT_TRUSTED
    with override_settings(JPKI_TRUST="anything"), pytest.raises(ImproperlyConfigured):
        trust_store()
