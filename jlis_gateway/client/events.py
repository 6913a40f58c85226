"""The event feed: a page's envelope is checked as a whole, each event on its own."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography import x509

from . import fields as f

KINDS = ("consent_reflected", "consent_rejected", "consent_revoked", "consent_registered", "latest_info")
CHANNELS = ("mynaportal", "jpki_mobile")


@dataclass(frozen=True)
class Event:
    """A valid event. `data` holds only the kind's known fields, ready to store as JSON."""

    id: str
    kind: str
    holder_seq: int
    occurred_at: datetime
    serial: str
    consent_id: str
    data: dict[str, Any]
    # The event as J-LIS sent it, for the hash a conflicting repeat is quarantined with; never stored.
    sent: Any = field(default=None, repr=False, compare=False)


class InvalidEvent(Exception):
    """One event of a page that cannot be read; the rest of the page can.

    Keeps what an operator needs to have J-LIS serve it again (its id, the reason, the JSON path
    that failed, a hash of the body), never the body: a value in it may be an item the holder did
    not consent to, or personal data of a holder whose service was stopped (R2, R15).
    """

    def __init__(self, reason: str, raw: Any, path: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.paths = [path]
        self.event_id = raw.get("id", "") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else ""
        self.event_id = self.event_id[:64] if f.IDENTIFIER.fullmatch(self.event_id[:64]) else ""
        self.body_sha256 = body_hash(raw)


def body_hash(raw: Any) -> str:
    """SHA-256 of the event's canonical JSON (keys sorted, no spaces, UTF-8): the same event sent
    again hashes the same, whatever J-LIS's spacing or key order (docs/jlis-protocol.md)."""
    canonical = json.dumps(raw, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class EventPage:
    events: list[Event]
    invalid: list[InvalidEvent] = field(default_factory=list)
    next_cursor: str = ""
    has_more: bool = False


def _consent_reflected(data: dict[str, Any], serial: str) -> dict[str, Any]:
    return {
        "consent_id": f.identifier(data.get("consent_id"), "data.consent_id"),
        "consent_date": f.date_parse(data.get("consent_date"), "data.consent_date").isoformat(),
    }


def _consent_rejected(data: dict[str, Any], serial: str) -> dict[str, Any]:
    return {
        "consent_id": f.identifier(data.get("consent_id"), "data.consent_id"),
        "reason": f.text(data.get("reason"), "data.reason", 200),
    }


def _consent_revoked(data: dict[str, Any], serial: str) -> dict[str, Any]:
    if data.get("channel") not in CHANNELS:
        raise f.Malformed("data.channel", "is not mynaportal or jpki_mobile")
    return {"consent_id": f.identifier(data.get("consent_id"), "data.consent_id"), "channel": data["channel"]}


def _consent_registered(data: dict[str, Any], serial: str) -> dict[str, Any]:
    der = f.base64_parse(data.get("certificate"), "data.certificate", f.MAX_CERTIFICATE_BYTES)
    try:
        certificate = x509.load_der_x509_certificate(der)
    except ValueError:
        raise f.Malformed("data.certificate", "is not a DER X.509 certificate") from None
    if str(certificate.serial_number) != serial:
        raise f.Malformed("data.certificate", "serial differs from the event serial")
    return {
        "consent_id": f.identifier(data.get("consent_id"), "data.consent_id"),
        "items": f.items_parse(data.get("items"), "data.items"),
        "consent_date": f.date_parse(data.get("consent_date"), "data.consent_date").isoformat(),
        "certificate": data["certificate"],
        "previous_serials": _serial_list(data.get("previous_serials", []), "data.previous_serials"),
    }


def _serial_list(value: Any, field: str) -> list[str]:
    if not isinstance(value, list) or len(value) > 10:
        raise f.Malformed(field, "is not a list of at most 10 serials")
    return [f.serial(item, f"{field}[{i}]") for i, item in enumerate(value)]


def _latest_info(data: dict[str, Any], serial: str) -> dict[str, Any]:
    old = f.serial(data.get("old_serial"), "data.old_serial")
    new = f.serial(data.get("new_serial"), "data.new_serial")
    if old != serial:
        raise f.Malformed("data.old_serial", "differs from the event serial")
    if new == old:
        raise f.Malformed("data.new_serial", "equals data.old_serial")
    clean: dict[str, Any] = {
        "old_serial": old,
        "new_serial": new,
        "not_after": f.datetime_parse(data.get("not_after"), "data.not_after").isoformat(),
    }
    # Only the three items are read; anything else J-LIS might add is never stored (R2).
    if "name" in data:
        clean["name"] = f.text(data["name"], "data.name", 100)
    if "address" in data:
        clean["address"] = f.text(data["address"], "data.address", 200)
    if "birth_date" in data:
        clean["birth_date"] = f.date_parse(data["birth_date"], "data.birth_date").isoformat()
    if not clean.keys() & set(f.ITEMS):
        raise f.Malformed("data", "carries none of name, address, birth_date")
    return clean


DATA_PARSERS: dict[str, Callable[[dict[str, Any], str], dict[str, Any]]] = {
    "consent_reflected": _consent_reflected,
    "consent_rejected": _consent_rejected,
    "consent_revoked": _consent_revoked,
    "consent_registered": _consent_registered,
    "latest_info": _latest_info,
}


def event_parse(raw: Any) -> Event:
    """One event, checked completely, or InvalidEvent with the reason."""
    try:
        if not isinstance(raw, dict):
            raise f.Malformed("$", "is not an object")
        event_id = f.identifier(raw.get("id"), "id")
        kind = raw.get("kind")
        if kind not in KINDS:
            raise f.Malformed("kind", "is not one of the five event kinds")
        serial = f.serial(raw.get("serial"), "serial")
        data = raw.get("data")
        if not isinstance(data, dict):
            raise f.Malformed("data", "is not an object")
        clean = DATA_PARSERS[kind](data, serial)
        return Event(
            id=event_id,
            kind=kind,
            holder_seq=f.positive_int(raw.get("holder_seq"), "holder_seq"),
            occurred_at=f.datetime_parse(raw.get("occurred_at"), "occurred_at"),
            serial=serial,
            consent_id=clean.get("consent_id", ""),
            data=clean,
            sent=raw,
        )
    except f.Malformed as exc:
        raise InvalidEvent(str(exc), raw, exc.path) from None


class PageMalformed(ValueError):
    """The page as a whole is not what the protocol says: none of it may be used."""


def page_parse(answer: Any, *, after: str, limit: int) -> EventPage:
    """Validate a page's envelope as a whole, then each event on its own.

    A bad envelope raises PageMalformed; a bad event is returned in `invalid` with its reason,
    so the caller can quarantine it and keep the others.
    """
    if not isinstance(answer, dict):
        raise PageMalformed("body is not an object")
    events, cursor, has_more = answer.get("events"), answer.get("next_cursor"), answer.get("has_more")
    if not isinstance(events, list):
        raise PageMalformed("events is not a list")
    if not isinstance(cursor, str) or len(cursor) > 128 or (events and not cursor):
        raise PageMalformed("next_cursor is not a string of 1-128 characters")
    if not isinstance(has_more, bool):
        raise PageMalformed("has_more is not a boolean")
    if len(events) > limit:
        raise PageMalformed(f"{len(events)} events for a limit of {limit}")
    if (events or has_more) and cursor == after:
        raise PageMalformed("next_cursor does not move past the page")
    valid: list[Event] = []
    invalid: list[InvalidEvent] = []
    for raw in events:
        try:
            valid.append(event_parse(raw))
        except InvalidEvent as exc:
            invalid.append(exc)
    return EventPage(events=valid, invalid=invalid, next_cursor=cursor, has_more=has_more)
