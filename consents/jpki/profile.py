"""The JPKI signing-certificate profile: OIDs and the encoding of the four items.

Facts: ../shared/DOMAIN.md ("Signing certificate", "The four items").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from cryptography.x509.oid import ObjectIdentifier

POLICY_PRODUCTION = ObjectIdentifier("1.2.392.200149.8.5.1.1.20")
POLICY_TEST = ObjectIdentifier("1.2.392.200149.8.5.1.0.20")

_ITEM_ARC = "1.2.392.200149.8.5.5"
OID_NAME = ObjectIdentifier(f"{_ITEM_ARC}.1")
OID_NAME_SUBSTITUTED = ObjectIdentifier(f"{_ITEM_ARC}.2")
OID_SEX = ObjectIdentifier(f"{_ITEM_ARC}.3")
OID_BIRTH_DATE = ObjectIdentifier(f"{_ITEM_ARC}.4")
OID_ADDRESS = ObjectIdentifier(f"{_ITEM_ARC}.5")
OID_ADDRESS_SUBSTITUTED = ObjectIdentifier(f"{_ITEM_ARC}.6")

CA_OU = ("JPKI for digital signature", "Japan Agency for Local Authority Information Systems")

# Era codes (元号コード) that open the EYYYYMMDD birthdate; YYYYMMDD itself is Gregorian.
ERAS: tuple[tuple[str, date], ...] = (
    ("5", date(2019, 5, 1)),  # 令和
    ("4", date(1989, 1, 8)),  # 平成
    ("3", date(1926, 12, 25)),  # 昭和
    ("2", date(1912, 7, 30)),  # 大正
    ("1", date(1868, 1, 25)),  # 明治
)


def era_code(day: date) -> str:
    for code, first_day in ERAS:
        if day >= first_day:
            return code
    raise ValueError("before the Meiji era")


def encode_birth_date(day: date) -> str:
    return f"{era_code(day)}{day:%Y%m%d}"


def decode_birth_date(value: str) -> date:
    """EYYYYMMDD -> date; the era code must agree with the date."""
    if len(value) != 9 or not value.isascii() or not value.isdigit():
        raise ValueError("birth date is not EYYYYMMDD")
    day = date(int(value[1:5]), int(value[5:7]), int(value[7:9]))
    if era_code(day) != value[0]:
        raise ValueError("birth date era code does not match the date")
    return day


def der_utf8string(text: str) -> bytes:
    """DER encoding of an ASN.1 UTF8String (tag 12), as the otherName values carry."""
    body = text.encode("utf-8")
    return bytes([0x0C]) + _der_length(len(body)) + body


def decode_der_utf8string(der: bytes) -> str:
    if len(der) < 2 or der[0] != 0x0C:
        raise ValueError("not a UTF8String")
    length, offset = _read_der_length(der, 1)
    if offset + length != len(der):
        raise ValueError("UTF8String length does not match")
    return der[offset:].decode("utf-8")


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _read_der_length(der: bytes, offset: int) -> tuple[int, int]:
    first = der[offset]
    if first < 0x80:
        return first, offset + 1
    count = first & 0x7F
    if count == 0 or count > 4 or offset + 1 + count > len(der):
        raise ValueError("bad DER length")
    value = int.from_bytes(der[offset + 1 : offset + 1 + count], "big")
    if value < 0x80 or der[offset + 1] == 0:
        raise ValueError("non-minimal DER length")
    return value, offset + 1 + count


@dataclass(frozen=True)
class HolderItems:
    """The four items (and the markers of substituted characters) a signing certificate carries."""

    name: str
    name_substituted: str
    sex: str
    birth_date: date
    address: str
    address_substituted: str


def holder_items(other_names: dict[ObjectIdentifier, bytes]) -> HolderItems:
    """Decode the subjectAltName otherName values (DER UTF8String) by OID.

    Substituted-character markers are data: kept exactly as the certificate has them.
    Raises ValueError when a required item is missing or malformed.
    """

    def text(oid: ObjectIdentifier, *, required: bool = True) -> str:
        if oid not in other_names:
            if required:
                raise ValueError(f"subjectAltName lacks {oid.dotted_string}")
            return ""
        return decode_der_utf8string(other_names[oid])

    return HolderItems(
        name=text(OID_NAME),
        name_substituted=text(OID_NAME_SUBSTITUTED, required=False),
        sex=text(OID_SEX),
        birth_date=decode_birth_date(text(OID_BIRTH_DATE)),
        address=text(OID_ADDRESS),
        address_substituted=text(OID_ADDRESS_SUBSTITUTED, required=False),
    )
