"""The test card: a JPKI-TEST hierarchy that issues signing certificates faithful to the JPKI
profile, and cards that sign statements the way a My Number card does.

Used by the tests, the demo ("sign with the demo card") and the J-LIS simulator. Its keys never
leave the test hierarchy: production trusts only the real J-LIS roots (settings.JPKI_TRUST).
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import CRLReason
from cryptography.x509.oid import NameOID

from onestop.prefectures import PREFECTURES, prefecture_of_address

from .profile import (
    CA_OU,
    OID_ADDRESS,
    OID_ADDRESS_SUBSTITUTED,
    OID_BIRTH_DATE,
    OID_NAME,
    OID_NAME_SUBSTITUTED,
    OID_SEX,
    POLICY_TEST,
    der_utf8string,
    encode_birth_date,
    holder_items,
)

# A JPKI signing certificate ends at 23:59:59 JST of its last day, which is 14:59:59Z.
EXPIRY_TIME_UTC = time(14, 59, 59)
TEST_ORGANISATION = "JPKI-TEST"
JST = ZoneInfo("Asia/Tokyo")
AUTH_CA_OU = ("JPKI for user authentication", CA_OU[1])


# (serial, revocation date, reason code or None) of one CRL entry.
RevokedEntry = tuple[int, datetime, x509.ReasonFlags | None]


@dataclass(frozen=True)
class CardHolder:
    """What a card's signing certificate carries about its holder."""

    name: str  # family and given name split by a full-width space
    address: str  # from the prefecture, full-width
    birth_date: date
    sex: str = "1"  # 1 male, 2 female, 3 other
    name_substituted: str = ""  # which name characters were substituted (data, kept as is)
    address_substituted: str = ""


@dataclass
class CertificateAuthority:
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @property
    def key_id(self) -> str:
        ski = self.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        return ski.value.digest.hex()

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


@dataclass
class TestCard:
    __test__ = False  # not a pytest test class

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    holder: CardHolder

    def sign(self, statement: bytes) -> bytes:
        """PKCS#1 v1.5 over the SHA-256 DigestInfo, as the card's signing key does."""
        return self.key.sign(statement, padding.PKCS1v15(), hashes.SHA256())

    @property
    def certificate_der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def serial(self) -> str:
        return str(self.certificate.serial_number)

    def save(self, prefix: Path) -> tuple[Path, Path]:
        """Write `<prefix>.pem` (certificate) and `<prefix>.key` (private key, owner-only)."""
        prefix.parent.mkdir(parents=True, exist_ok=True)
        key_pem = self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        cert_pem = self.certificate.public_bytes(serialization.Encoding.PEM)
        paths = (prefix.with_name(prefix.name + ".pem"), prefix.with_name(prefix.name + ".key"))
        for path, data in zip(paths, (cert_pem, key_pem), strict=True):
            _write_private(path, data)
        return paths

    @classmethod
    def load(cls, prefix: Path) -> TestCard:
        """A card written by `save`; the holder is read back from the certificate."""
        certificate = x509.load_pem_x509_certificate(prefix.with_name(prefix.name + ".pem").read_bytes())
        key = serialization.load_pem_private_key(prefix.with_name(prefix.name + ".key").read_bytes(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return cls(key, certificate, holder_of(certificate))


def holder_of(certificate: x509.Certificate) -> CardHolder:
    san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    items = holder_items({o.type_id: o.value for o in san.get_values_for_type(x509.OtherName)})
    return CardHolder(
        name=items.name,
        address=items.address,
        birth_date=items.birth_date,
        sex=items.sex,
        name_substituted=items.name_substituted,
        address_substituted=items.address_substituted,
    )


def fifth_birthday_after(issued: date, birth_date: date) -> date:
    """The holder's fifth birthday after the day of issue (29 February falls on the 28th)."""
    count, year = 0, issued.year
    while True:
        try:
            birthday = birth_date.replace(year=year)
        except ValueError:
            birthday = date(year, 2, 28)
        if birthday > issued:
            count += 1
            if count == 5:
                return birthday
        year += 1


def expiry_instant(day: date) -> datetime:
    return datetime.combine(day, EXPIRY_TIME_UTC, tzinfo=UTC)


def _new_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _ca_name(organisation: str, units: tuple[str, str]) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, units[0]),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, units[1]),
        ]
    )


def make_ca(
    *,
    organisation: str = TEST_ORGANISATION,
    units: tuple[str, str] = CA_OU,
    not_before: datetime | None = None,
    years: int = 20,
    key: rsa.RSAPrivateKey | None = None,
) -> CertificateAuthority:
    """A self-signed CA. Every JPKI CA generation has the same name: only its key differs."""
    key = key or _new_key()
    start = not_before or datetime(2020, 1, 1, tzinfo=UTC)
    name = _ca_name(organisation, units)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertificateAuthority(key, certificate)


def _city(address: str, prefecture: str) -> str:
    rest = address[len(prefecture) :]
    for i, char in enumerate(rest):
        if char in "市区町村郡":
            return rest[: i + 1]
    return rest[:10] or prefecture


def issue_certificate(
    ca: CertificateAuthority,
    holder: CardHolder,
    *,
    issued_at: datetime | None = None,
    not_after: datetime | None = None,
    key: rsa.RSAPrivateKey | None = None,
    key_bits: int = 2048,
    policy: x509.ObjectIdentifier = POLICY_TEST,
    digital_signature: bool = True,
    non_repudiation: bool = True,
    serial: int | None = None,
) -> TestCard:
    """A holder's signing certificate in the JPKI profile (the keyword options make faulty ones)."""
    key = key or _new_key(key_bits)
    issued = issued_at or datetime.now(UTC).replace(microsecond=0)
    end = not_after or expiry_instant(fifth_birthday_after(issued.date(), holder.birth_date))
    prefecture_code = prefecture_of_address(holder.address)
    prefecture = PREFECTURES[prefecture_code] if prefecture_code else "東京都"
    other_names = [
        x509.OtherName(OID_NAME, der_utf8string(holder.name)),
        x509.OtherName(OID_NAME_SUBSTITUTED, der_utf8string(holder.name_substituted)),
        x509.OtherName(OID_SEX, der_utf8string(holder.sex)),
        x509.OtherName(OID_BIRTH_DATE, der_utf8string(encode_birth_date(holder.birth_date))),
        x509.OtherName(OID_ADDRESS, der_utf8string(holder.address)),
        x509.OtherName(OID_ADDRESS_SUBSTITUTED, der_utf8string(holder.address_substituted)),
    ]
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.LOCALITY_NAME, prefecture),
            x509.NameAttribute(NameOID.LOCALITY_NAME, _city(holder.address, prefecture)),
            x509.NameAttribute(NameOID.COMMON_NAME, secrets.token_hex(12).upper()),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(issued)
        .not_valid_after(end)
        .add_extension(
            x509.KeyUsage(
                digital_signature=digital_signature,
                content_commitment=non_repudiation,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.CertificatePolicies([x509.PolicyInformation(policy, None)]), critical=False)
        .add_extension(x509.SubjectAlternativeName(other_names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca.key, hashes.SHA256())
    )
    return TestCard(key, certificate, holder)


@dataclass
class TestHierarchy:
    """The JPKI-TEST signing CA, and a user-authentication CA a consent must never accept."""

    __test__ = False  # not a pytest test class

    signing_ca: CertificateAuthority
    auth_ca: CertificateAuthority = field(repr=False)
    # Set by load_or_create: where revoke() keeps the CRL's entries and number between runs.
    directory: Path | None = field(default=None, repr=False, compare=False)
    _revoked: list[RevokedEntry] = field(default_factory=list, repr=False, compare=False)
    _number: int = field(default=0, repr=False, compare=False)

    @classmethod
    def generate(cls) -> TestHierarchy:
        return cls(make_ca(), make_ca(units=AUTH_CA_OU))

    def issue_card(self, holder: CardHolder, **options: object) -> TestCard:
        return issue_certificate(self.signing_ca, holder, **options)  # type: ignore[arg-type]

    def issue_expired_card(self, holder: CardHolder, *, expired_on: date | None = None, **options: object) -> TestCard:
        """A card whose certificate ended at 23:59:59 JST on `expired_on` (default: yesterday, JST)."""
        day = expired_on or (datetime.now(JST).date() - timedelta(days=1))
        end = expiry_instant(day)
        return self.issue_card(holder, issued_at=end - timedelta(days=5 * 365), not_after=end, **options)

    def revoke(
        self, serial: int | str, *, reason: x509.ReasonFlags | None = None, revoked_at: datetime | None = None
    ) -> bytes:
        """Add a serial to the signing CA's CRL; returns the whole CRL (DER) under the next number.

        A hierarchy from load_or_create keeps the entries and the number in its directory
        (`revocations.json`) and writes the CRL to `signing_ca.crl`; one made in memory keeps them
        on the instance (tests use that, so they leave the shared directory alone).
        """
        entry = (int(serial), revoked_at or datetime.now(UTC).replace(microsecond=0), reason)
        return self._next_crl([entry])

    def publish_crl(self) -> bytes:
        """The signing CA's CRL as it stands, reissued under the next number (J-LIS issues one daily)."""
        return self._next_crl([])

    def _next_crl(self, new_entries: list[RevokedEntry]) -> bytes:
        if self.directory is None:
            self._revoked.extend(new_entries)
            self._number += 1
            return make_crl(self.signing_ca, self._revoked, number=self._number)
        state_file = self.directory / "revocations.json"
        with open(self.directory / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            state = json.loads(state_file.read_text()) if state_file.exists() else {"number": 0, "entries": []}
            for serial, at, reason in new_entries:
                state["entries"].append([str(serial), at.isoformat(), reason.value if reason else ""])
            state["number"] += 1
            entries = [
                (int(s), datetime.fromisoformat(at), x509.ReasonFlags(r) if r else None)
                for s, at, r in state["entries"]
            ]
            der = make_crl(self.signing_ca, entries, number=state["number"])
            _write_private(self.directory / "signing_ca.crl", der)
            _write_private(state_file, json.dumps(state).encode())
        return der

    @classmethod
    def load_or_create(cls, directory: Path) -> TestHierarchy:
        """The hierarchy kept in `directory`, made once; safe when several processes start."""
        directory.mkdir(parents=True, exist_ok=True)
        with open(directory / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (directory / "signing_ca.pem").exists():
                hierarchy = cls.generate()
                _save(directory, "auth_ca", hierarchy.auth_ca)
                _save(directory, "signing_ca", hierarchy.signing_ca)
            return cls(_load(directory, "signing_ca"), _load(directory, "auth_ca"), directory=directory)


def make_crl(
    ca: CertificateAuthority,
    entries: Iterable[RevokedEntry],
    *,
    number: int,
    this_update: datetime | None = None,
    next_update: datetime | None = None,
) -> bytes:
    """A full CRL (DER) signed by `ca`, with its CRL number and authority key identifier."""
    start = this_update or datetime.now(UTC).replace(microsecond=0)
    revoked = [
        x509.RevokedCertificateBuilder(
            serial_number=serial,
            revocation_date=at,
            extensions=[x509.Extension(CRLReason.oid, False, CRLReason(reason))] if reason else [],
        ).build()
        for serial, at, reason in entries
    ]
    crl = x509.CertificateRevocationListBuilder(
        issuer_name=ca.certificate.subject,
        last_update=start,
        next_update=next_update or start + timedelta(days=1),
        extensions=[
            x509.Extension(x509.CRLNumber.oid, False, x509.CRLNumber(number)),
            x509.Extension(
                x509.AuthorityKeyIdentifier.oid,
                False,
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            ),
        ],
        revoked_certificates=revoked,
    ).sign(ca.key, hashes.SHA256())
    return crl.public_bytes(serialization.Encoding.DER)


def _write_private(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def _save(directory: Path, stem: str, ca: CertificateAuthority) -> None:
    key_pem = ca.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    for suffix, data in ((".key", key_pem), (".pem", ca.pem)):
        _write_private(directory / f"{stem}{suffix}", data)


def _load(directory: Path, stem: str) -> CertificateAuthority:
    key = serialization.load_pem_private_key((directory / f"{stem}.key").read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    certificate = x509.load_pem_x509_certificate((directory / f"{stem}.pem").read_bytes())
    return CertificateAuthority(key, certificate)
