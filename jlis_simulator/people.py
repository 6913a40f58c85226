"""The simulator's vocabulary: its errors, a person's data, and reading it from a certificate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from cryptography import x509

from consents.jpki.profile import (
    OID_ADDRESS,
    OID_BIRTH_DATE,
    OID_NAME,
    OID_SEX,
    decode_birth_date,
    decode_der_utf8string,
)

ITEMS = ("address", "name", "birth_date")


class SimError(Exception):
    """An answer other than success: HTTP status, protocol error code, operator message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Person:
    name: str
    address: str
    birth_date: date
    sex: str = "1"


def items_check(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [item.strip() for item in value.split(",") if item.strip()]
    if not isinstance(value, list) or not value or any(i not in ITEMS for i in value) or len(set(value)) != len(value):
        raise SimError(400, "invalid_items", "items must be a non-empty subset of address, name, birth_date")
    return value


def person_from_certificate(certificate: x509.Certificate) -> Person:
    """The holder's data from the certificate's subjectAltName (the JPKI profile)."""
    values: dict[str, str] = {}
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        for other in san.get_values_for_type(x509.OtherName):
            values[other.type_id.dotted_string] = decode_der_utf8string(other.value)
        birth = decode_birth_date(values.get(OID_BIRTH_DATE.dotted_string, ""))
    except (x509.ExtensionNotFound, ValueError):
        return Person(name="", address="", birth_date=date(1900, 1, 1))
    return Person(
        name=values.get(OID_NAME.dotted_string, ""),
        address=values.get(OID_ADDRESS.dotted_string, ""),
        birth_date=birth,
        sex=values.get(OID_SEX.dotted_string, "1"),
    )


def int_field(value: Any, field: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SimError(400, "invalid_request", f"{field} must be a number") from None
