"""Faulty JPKI material for the refusal tests: real keys, real certificates, real signatures.

A faulty signing certificate is a good one (consents.jpki.testcard) rebuilt with one thing
changed and signed again by the CA's real key. cryptography's builders make well-formed objects
only; a CRL without nextUpdate needs more, so a small DER reader/writer re-encodes a signed CRL
and signs it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from consents.jpki.testcard import CertificateAuthority, make_crl

UTC_TIME, GENERALIZED_TIME = 0x17, 0x18


def der_items(der: bytes) -> list[bytes]:
    """The TLVs directly inside one DER SEQUENCE, each whole (tag, length and value)."""
    header, length = _header(der, 0)
    content = der[header : header + length]
    items, offset = [], 0
    while offset < len(content):
        header, length = _header(content, offset)
        items.append(content[offset : header + length])
        offset = header + length
    return items


def _header(data: bytes, offset: int) -> tuple[int, int]:
    """Where the value of the TLV at `offset` starts, and its length (single-byte tags only)."""
    first = data[offset + 1]
    if not first & 0x80:
        return offset + 2, first
    count = first & 0x7F
    return offset + 2 + count, int.from_bytes(data[offset + 2 : offset + 2 + count], "big")


def der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def der_sequence(items: list[bytes]) -> bytes:
    content = b"".join(items)
    return b"\x30" + der_length(len(content)) + content


def crl_without_next_update(ca: CertificateAuthority, *, number: int, this_update: datetime) -> bytes:
    """A full CRL signed by the CA's key whose TBSCertList has no nextUpdate (RFC 5280 allows it
    to be absent; J-LIS's always carry one)."""
    der = make_crl(ca, [], number=number, this_update=this_update, next_update=this_update + timedelta(days=1))
    tbs, algorithm, _signature = der_items(der)
    fields = der_items(tbs)
    times = [i for i, item in enumerate(fields) if item[0] in (UTC_TIME, GENERALIZED_TIME)]
    assert len(times) == 2, "thisUpdate and nextUpdate"
    del fields[times[1]]
    new_tbs = der_sequence(fields)
    signature = ca.key.sign(new_tbs, padding.PKCS1v15(), hashes.SHA256())
    bit_string = b"\x03" + der_length(len(signature) + 1) + b"\x00" + signature
    crl = der_sequence([new_tbs, algorithm, bit_string])
    parsed = x509.load_der_x509_crl(crl)
    assert parsed.next_update_utc is None and parsed.is_signature_valid(ca.key.public_key())  # type: ignore[arg-type]
    return crl


# --- certificates -------------------------------------------------------------------------------

AnyPrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass
class Signer:
    """A certificate and the private key of its subject: signs a statement with that key."""

    key: AnyPrivateKey
    certificate: x509.Certificate

    @property
    def certificate_der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    def sign(self, statement: bytes) -> bytes:
        if isinstance(self.key, rsa.RSAPrivateKey):
            return self.key.sign(statement, padding.PKCS1v15(), hashes.SHA256())
        return self.key.sign(statement, ec.ECDSA(hashes.SHA256()))


def rebuilt(
    template: x509.Certificate,
    issuer: CertificateAuthority,
    *,
    key: AnyPrivateKey,
    drop: tuple[type[x509.ExtensionType], ...] = (),
    replace: tuple[tuple[x509.ExtensionType, bool], ...] = (),
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> Signer:
    """The template certificate (a good JPKI signing certificate) with its subject key replaced by
    `key`, the extensions of the classes in `drop` removed and those in `replace` put in (value,
    critical), signed again by `issuer`'s real key."""
    replaced = {type(value): (value, critical) for value, critical in replace}
    builder = (
        x509.CertificateBuilder()
        .subject_name(template.subject)
        .issuer_name(issuer.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or template.not_valid_before_utc)
        .not_valid_after(not_after or template.not_valid_after_utc)
    )
    for extension in template.extensions:
        kind = type(extension.value)
        if kind in drop or kind in replaced:
            continue
        value = extension.value
        if isinstance(value, x509.SubjectKeyIdentifier):
            value = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        if isinstance(value, x509.AuthorityKeyIdentifier):
            value = x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key())
        builder = builder.add_extension(value, extension.critical)
    for value, critical in replaced.values():
        builder = builder.add_extension(value, critical)
    return Signer(key, builder.sign(issuer.key, hashes.SHA256()))


def intermediate_ca(
    root: CertificateAuthority, *, units: tuple[str, str], not_before: datetime
) -> CertificateAuthority:
    """A CA certificate issued by `root` (JPKI has none: its signing CA is one self-signed level)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "JPKI-TEST"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, units[0]),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, units[1]),
            x509.NameAttribute(NameOID.COMMON_NAME, "intermediate"),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(root.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(CA_KEY_USAGE, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root.key.public_key()), critical=False)
        .sign(root.key, hashes.SHA256())
    )
    return CertificateAuthority(key, certificate)


CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)
