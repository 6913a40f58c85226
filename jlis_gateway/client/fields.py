"""Field checks for J-LIS answers. Reasons name the field and the problem, never the value
(a value may be personal data and reasons are shown to staff)."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import date, datetime
from typing import Any

IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")
SERIAL = re.compile(r"[0-9]{1,64}")
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# RFC 3339 with a mandatory offset; fromisoformat then does the calendar checks.
DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
ITEMS = ("address", "name", "birth_date")
MAX_CERTIFICATE_BYTES = 8 * 1024


class Malformed(ValueError):
    """A field is not what the protocol says: where (a JSON path, "$" for the event itself) and
    what is wrong with it, never the value."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{'event' if path == '$' else path} {problem}")
        self.path = path


def identifier(value: Any, field: str) -> str:
    if not isinstance(value, str) or not IDENTIFIER.fullmatch(value):
        raise Malformed(field, "is not an identifier")
    return value


def serial(value: Any, field: str) -> str:
    if not isinstance(value, str) or not SERIAL.fullmatch(value):
        raise Malformed(field, "is not a decimal serial")
    return value


def positive_int(value: Any, field: str) -> int:
    # bool is an int in Python; JSON true is not a sequence number.
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value < 2**63:
        raise Malformed(field, "is not a positive integer")
    return value


def date_parse(value: Any, field: str) -> date:
    if not isinstance(value, str) or not DATE.fullmatch(value):
        raise Malformed(field, "is not a YYYY-MM-DD date")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Malformed(field, "is not a calendar date") from None


def datetime_parse(value: Any, field: str) -> datetime:
    if not isinstance(value, str) or not DATETIME.fullmatch(value):
        raise Malformed(field, "is not an RFC 3339 time with an offset")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise Malformed(field, "is not a valid time") from None


def text(value: Any, field: str, max_length: int) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= max_length or CONTROL.search(value):
        raise Malformed(field, f"is not a text of 1-{max_length} characters")
    return value


def items_parse(value: Any, field: str) -> list[str]:
    if not isinstance(value, list) or not value:
        raise Malformed(field, "is not a non-empty list")
    if any(item not in ITEMS for item in value) or len(set(value)) != len(value):
        raise Malformed(field, "holds an unknown or repeated item")
    return list(value)


def base64_parse(value: Any, field: str, max_bytes: int) -> bytes:
    if not isinstance(value, str) or len(value) > (max_bytes * 4) // 3 + 4:
        raise Malformed(field, f"is not base64 of at most {max_bytes} bytes")
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise Malformed(field, "is not valid base64") from None
    if not decoded:
        raise Malformed(field, "is empty")
    return decoded
