"""Verifying a consent signature made with a My Number card's signing certificate (R3).

The checks run so that each bad input gets the most precise reason: can it be read at all; is it
from the user-authentication CA; which trusted key issued it; key size; the signing-certificate
profile (key usage, policy, the four items); validity at the time of signing; the full path
(cryptography's X.509 verifier); revocation (refused when no current CRL can tell); and last the
signature over the exact statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.verification import Criticality, ExtensionPolicy, PolicyBuilder, VerificationError

from .errors import JpkiError, JpkiErrorCode
from .profile import HolderItems, holder_items
from .revocation import CrlRevocationChecker, RevocationChecker
from .trust import TrustStore, names_user_authentication_ca, trust_store

MIN_RSA_BITS = 2048


@dataclass(frozen=True)
class VerifiedSignature:
    serial: str  # the X.509 serial (発行番号), decimal
    issuer_key_id: str  # hex subject key identifier of the CA key that verified the certificate
    not_before: datetime
    not_after: datetime
    trust_anchor: str
    revocation_source: str
    revocation_checked_at: datetime
    name: str
    name_substituted: str
    address: str
    address_substituted: str
    birth_date: date
    sex: str

    def evidence(self) -> dict[str, Any]:
        """What the check rested on, without personal data (for Consent.verification)."""
        return {
            "serial": self.serial,
            "issuer_key_id": self.issuer_key_id,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "trust_anchor": self.trust_anchor,
            "revocation_source": self.revocation_source,
            "revocation_checked_at": self.revocation_checked_at.isoformat(),
        }


# A signing certificate has no SAN usable for web PKI (only otherNames) and no EKU; its
# certificate policy is often critical. Our own checks decide the rest, each with its precise
# code, before the path is built (a leaf marked as a CA is refused by _signing_profile).
EE_POLICY = (
    ExtensionPolicy.permit_all()
    .require_present(x509.KeyUsage, Criticality.CRITICAL, None)
    .require_present(x509.CertificatePolicies, Criticality.AGNOSTIC, None)
    .require_present(x509.SubjectAlternativeName, Criticality.AGNOSTIC, None)
)
CA_POLICY = ExtensionPolicy.webpki_defaults_ca()


def _as_bytes(value: object, what: str) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview) and len(value) > 0:
        return bytes(value)
    raise JpkiError(JpkiErrorCode.UNREADABLE_INPUT, f"{what} is empty or not bytes")


class ConsentSignatureVerifier:
    def __init__(self, *, trust: TrustStore, revocation: RevocationChecker) -> None:
        self.trust = trust
        self.revocation = revocation

    def verify(
        self, *, statement: bytes, signature: bytes, certificate_der: bytes, signed_at: datetime
    ) -> VerifiedSignature:
        if signed_at.tzinfo is None:
            raise ValueError("signed_at must be timezone-aware")
        # Certificate times have one-second precision: 14:59:59.5Z is still within 14:59:59Z.
        at = signed_at.astimezone(UTC).replace(microsecond=0)
        statement = _as_bytes(statement, "statement")
        signature = _as_bytes(signature, "signature")
        certificate = _load(_as_bytes(certificate_der, "certificate"))

        if names_user_authentication_ca(certificate.issuer) or self.trust.user_authentication_issuer_of(certificate):
            raise JpkiError(JpkiErrorCode.NOT_SIGNING_CERTIFICATE, "issued by the user-authentication CA")
        # (No anchor is a user-authentication CA: TrustStore refuses one.)
        anchor = self.trust.issuer_of(certificate)
        if anchor is None:
            raise JpkiError(JpkiErrorCode.CHAIN_NOT_TRUSTED, "no trusted signing-CA key issued it")
        public_key = certificate.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise JpkiError(JpkiErrorCode.NOT_SIGNING_CERTIFICATE, "not an RSA key")
        if public_key.key_size < MIN_RSA_BITS:
            raise JpkiError(JpkiErrorCode.KEY_TOO_SMALL, f"RSA-{public_key.key_size}")
        items = self._signing_profile(certificate)
        if not certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc:
            raise JpkiError(JpkiErrorCode.NOT_VALID_AT_SIGNING_TIME, "outside the validity period")
        self._path(certificate, at)

        serial = str(certificate.serial_number)
        status = self.revocation.status(issuer_key_id=anchor.key_id, serial=serial, at=at)
        if status.revoked:
            raise JpkiError(JpkiErrorCode.REVOKED, f"reason {status.reason or 'unspecified'}; {status.source}")
        if not status.known:  # fails closed: no current CRL is no evidence of "not revoked"
            raise JpkiError(JpkiErrorCode.REVOCATION_STATUS_UNKNOWN, status.source)
        try:
            public_key.verify(signature, statement, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise JpkiError(JpkiErrorCode.SIGNATURE_MISMATCH, "PKCS#1 v1.5 SHA-256 check failed") from None

        return VerifiedSignature(
            serial=serial,
            issuer_key_id=anchor.key_id,
            not_before=certificate.not_valid_before_utc,
            not_after=certificate.not_valid_after_utc,
            trust_anchor=anchor.description,
            revocation_source=status.source,
            revocation_checked_at=status.checked_at,
            name=items.name,
            name_substituted=items.name_substituted,
            address=items.address,
            address_substituted=items.address_substituted,
            birth_date=items.birth_date,
            sex=items.sex,
        )

    def _signing_profile(self, certificate: x509.Certificate) -> HolderItems:
        """Key usage, policy and the four items of a JPKI signing certificate."""
        extensions = certificate.extensions
        try:
            key_usage = extensions.get_extension_for_class(x509.KeyUsage)
            policies = extensions.get_extension_for_class(x509.CertificatePolicies).value
        except x509.ExtensionNotFound as exc:
            raise JpkiError(JpkiErrorCode.NOT_SIGNING_CERTIFICATE, f"missing {exc.oid.dotted_string}") from None
        if not (key_usage.critical and key_usage.value.digital_signature and key_usage.value.content_commitment):
            raise JpkiError(JpkiErrorCode.NOT_SIGNING_CERTIFICATE, "key usage lacks digitalSignature+nonRepudiation")
        if not any(p.policy_identifier == self.trust.policy for p in policies):
            raise JpkiError(JpkiErrorCode.NOT_SIGNING_CERTIFICATE, "certificate policy is not the signing policy")
        try:
            if extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
                raise JpkiError(JpkiErrorCode.NOT_SIGNING_CERTIFICATE, "a CA certificate")
        except x509.ExtensionNotFound:
            pass
        try:
            san = extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            other_names: dict[x509.ObjectIdentifier, bytes] = {}
            for other in san.get_values_for_type(x509.OtherName):
                if other.type_id in other_names:
                    raise ValueError(f"{other.type_id.dotted_string} appears twice")
                other_names[other.type_id] = other.value
            return holder_items(other_names)
        except (x509.ExtensionNotFound, ValueError, UnicodeDecodeError) as exc:
            raise JpkiError(JpkiErrorCode.NOT_SIGNING_CERTIFICATE, f"the four items: {exc}") from None

    def _path(self, certificate: x509.Certificate, at: datetime) -> None:
        verifier = (
            PolicyBuilder()
            .store(self.trust.store)
            .time(at)
            .extension_policies(ca_policy=CA_POLICY, ee_policy=EE_POLICY)
            .build_client_verifier()
        )
        # No intermediates are given and the store holds only the anchors, so a valid path is the
        # certificate and an anchor whose key signed it: the key issuer_of found above.
        try:
            verifier.verify(certificate, [])
        except VerificationError as exc:
            raise JpkiError(JpkiErrorCode.CHAIN_NOT_TRUSTED, f"path validation: {exc}") from None


def _load(der: bytes) -> x509.Certificate:
    try:
        certificate = x509.load_der_x509_certificate(der)
        # Parsed lazily: touch what the checks read so a malformed part is "unreadable" here.
        certificate.extensions  # noqa: B018
        certificate.public_key()
        certificate.not_valid_after_utc  # noqa: B018
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise JpkiError(JpkiErrorCode.UNREADABLE_INPUT, f"certificate: {type(exc).__name__}") from None
    return certificate


def verify_consent_signature(
    *, statement: bytes, signature: bytes, certificate_der: bytes, signed_at: datetime
) -> VerifiedSignature:
    """Verify a consent signature against the trust store settings.JPKI_TRUST chooses.

    Returns the verified facts, or raises JpkiError with a stable code and a message (ja/en).
    """
    verifier = ConsentSignatureVerifier(trust=trust_store(), revocation=CrlRevocationChecker())
    return verifier.verify(
        statement=statement, signature=signature, certificate_der=certificate_der, signed_at=signed_at
    )
