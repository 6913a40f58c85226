"""Faulty JPKI material for the refusal tests: real keys, real certificates, real signatures.

cryptography's builders make well-formed objects only; a few faults need more (a CRL without
nextUpdate), so a small DER reader/writer re-encodes a signed structure and signs it again with
the CA's real key.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

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
