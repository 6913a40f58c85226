"""The trust store: which signing-CA keys a consent signature may chain to.

settings.JPKI_TRUST chooses it: "production" trusts the real J-LIS signing roots shipped in
`roots/` (each pinned by its SHA-256 fingerprint), "test" the JPKI-TEST signing CA of the test
card. Every JPKI CA generation has the same name, so an issuer is always found by its key.
The user-authentication roots ship only to recognise (and refuse) their certificates.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import Store
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .profile import POLICY_PRODUCTION, POLICY_TEST

ROOTS_DIR = Path(__file__).resolve().parent / "roots"
AUTH_CA_UNIT = "JPKI for user authentication"

# SHA-256 fingerprints of the shipped roots (`openssl x509 -noout -fingerprint -sha256`).
# Rotating roots: add the new generation's PEM and its pin here; keep the old one until every
# certificate it issued has expired (README, "Trust model and JPKI").
SIGNING_ROOTS: dict[str, str] = {
    "sign_ca_2015": "19:64:54:05:A1:FE:14:37:74:34:BD:55:95:76:28:AC:40:38:55:7C:54:24:03:A2:24:3F:21:C7:06:FC:93:55",
    "sign_ca_2023": "D2:27:F6:CD:E1:1D:35:C5:25:21:78:F1:06:F8:43:D2:46:51:94:49:75:41:3B:53:9F:A2:FB:68:DB:FA:36:5F",
}
USER_AUTHENTICATION_ROOTS: dict[str, str] = {
    "auth_ca_2015": "4D:CF:C4:CA:0A:AF:9F:B2:A3:08:1B:3F:0C:99:1C:32:0B:3A:CC:00:86:67:A3:41:EE:AE:C5:AF:1D:58:CA:7D",
    "auth_ca_2023": "64:11:4F:29:62:0C:24:ED:26:31:D4:64:76:A0:40:E7:EE:74:0D:95:60:89:C0:0B:03:6A:6A:81:18:C3:22:B5",
}


def fingerprint_sha256(certificate: x509.Certificate) -> str:
    digest = hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def key_id_of(certificate: x509.Certificate) -> str:
    """Hex of the subject key identifier (computed from the key when the extension is absent)."""
    try:
        return certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest.hex()
    except x509.ExtensionNotFound:
        return x509.SubjectKeyIdentifier.from_public_key(certificate.public_key()).digest.hex()


def names_user_authentication_ca(name: x509.Name) -> bool:
    """Whether a name is the user-authentication CA's (used only to refuse, never to trust)."""
    return any(a.value == AUTH_CA_UNIT for a in name.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME))


@dataclass(frozen=True)
class TrustAnchor:
    label: str  # e.g. "J-LIS sign_ca_2023", "JPKI-TEST signing CA"
    certificate: x509.Certificate = field(repr=False)

    @cached_property
    def key_id(self) -> str:
        return key_id_of(self.certificate)

    @property
    def description(self) -> str:
        return f"{self.label} {self.key_id}"

    @property
    def is_user_authentication_ca(self) -> bool:
        return names_user_authentication_ca(self.certificate.subject) or (
            fingerprint_sha256(self.certificate) in USER_AUTHENTICATION_ROOTS.values()
        )

    def issued(self, certificate: x509.Certificate) -> bool:
        """Whether this anchor's key signed the certificate (and the names chain)."""
        try:
            certificate.verify_directly_issued_by(self.certificate)
        except (ValueError, TypeError, InvalidSignature):
            return False
        return True


@dataclass(frozen=True)
class TrustStore:
    name: str  # "production" or "test"
    policy: x509.ObjectIdentifier  # the certificate policy a signing certificate must carry
    anchors: tuple[TrustAnchor, ...]
    # Recognised only to refuse their certificates with a precise reason.
    user_authentication_cas: tuple[TrustAnchor, ...] = ()

    def __post_init__(self) -> None:
        # However the store is built (signing_anchor refuses one too), a user-authentication CA
        # is never an anchor: its certificates can never verify a consent.
        for anchor in self.anchors:
            if anchor.is_user_authentication_ca:
                raise ValueError(f"{anchor.label} is a user-authentication CA: it cannot anchor consent signatures")

    @cached_property
    def store(self) -> Store:
        return Store([anchor.certificate for anchor in self.anchors])

    def issuer_of(self, certificate: x509.Certificate) -> TrustAnchor | None:
        """The anchor whose key signed the certificate; never chosen by name alone."""
        return _issuer_among(self.anchors, certificate)

    def user_authentication_issuer_of(self, certificate: x509.Certificate) -> TrustAnchor | None:
        return _issuer_among(self.user_authentication_cas, certificate)


def _issuer_among(anchors: tuple[TrustAnchor, ...], certificate: x509.Certificate) -> TrustAnchor | None:
    # The authority key identifier only orders the candidates: the signature decides.
    try:
        aki = certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    except (x509.ExtensionNotFound, ValueError):
        aki = None
    hint = aki.hex() if aki else None
    for anchor in sorted(anchors, key=lambda a: a.key_id != hint):
        if anchor.issued(certificate):
            return anchor
    return None


def signing_anchor(label: str, certificate: x509.Certificate) -> TrustAnchor:
    """A trust anchor for consent signatures; a user-authentication CA is refused."""
    anchor = TrustAnchor(label, certificate)
    if anchor.is_user_authentication_ca:
        raise ValueError(f"{label} is a user-authentication CA: it can never verify a consent signature")
    return anchor


def load_pinned_root(stem: str, pins: dict[str, str]) -> x509.Certificate:
    certificate = x509.load_pem_x509_certificate((ROOTS_DIR / f"{stem}.pem").read_bytes())
    if fingerprint_sha256(certificate) != pins[stem]:
        raise ImproperlyConfigured(f"JPKI root {stem}.pem does not match its pinned SHA-256 fingerprint")
    return certificate


def production_trust_store() -> TrustStore:
    return TrustStore(
        name="production",
        policy=POLICY_PRODUCTION,
        anchors=tuple(signing_anchor(f"J-LIS {s}", load_pinned_root(s, SIGNING_ROOTS)) for s in SIGNING_ROOTS),
        user_authentication_cas=_real_user_authentication_cas(),
    )


def jpki_test_trust_store(directory: Path) -> TrustStore:
    from .testcard import TestHierarchy

    hierarchy = TestHierarchy.load_or_create(directory)
    return TrustStore(
        name="test",
        policy=POLICY_TEST,
        anchors=(signing_anchor("JPKI-TEST signing CA", hierarchy.signing_ca.certificate),),
        user_authentication_cas=(
            TrustAnchor("JPKI-TEST user-authentication CA", hierarchy.auth_ca.certificate),
            *_real_user_authentication_cas(),
        ),
    )


def _real_user_authentication_cas() -> tuple[TrustAnchor, ...]:
    return tuple(
        TrustAnchor(f"J-LIS {s}", load_pinned_root(s, USER_AUTHENTICATION_ROOTS)) for s in USER_AUTHENTICATION_ROOTS
    )


def trust_store() -> TrustStore:
    """The store settings.JPKI_TRUST chooses (loaded once per setting)."""
    return _cached_store(settings.JPKI_TRUST, str(settings.JPKI_TEST_DIR))


@cache
def _cached_store(trust: str, test_dir: str) -> TrustStore:
    if trust == "production":
        return production_trust_store()
    if trust == "test":
        return jpki_test_trust_store(Path(test_dir))
    raise ImproperlyConfigured(f"JPKI_TRUST must be 'production' or 'test', not {trust!r}")
