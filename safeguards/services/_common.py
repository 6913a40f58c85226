"""What the safeguard services share: who may act, and how free text is checked."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.utils.functional import Promise

from driver_records.access import office_serves
from driver_records.models import DriverRecord
from onestop.clock import japan_date
from onestop.models import User
from onestop.roles import is_supervisor
from onestop.validators import contains_my_number, my_number_refusal

from ..errors import SafeguardRefused

NOTE_MAX = 1000
# Crockford's base32 without I, L, O, U: reference numbers are read aloud and typed back.
_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def require_supervisor(actor: User) -> None:
    if not is_supervisor(actor):
        raise SafeguardRefused("forbidden")


def require_supervisor_for(actor: User, record: DriverRecord) -> None:
    """A supervisor of the holder's prefecture of residence (as for revocation, R9)."""
    require_supervisor(actor)
    if actor.office is None:
        raise SafeguardRefused("no_office")
    if not office_serves(actor.office, record.prefecture):  # the one object-scope rule
        raise SafeguardRefused("wrong_prefecture")


def clean_text(value: str, *, field: str | Promise, required: bool, max_length: int = NOTE_MAX) -> str:
    """Typed text, stripped and checked; `field` is its label, which a refusal names."""
    value = value.strip()
    if required and not value:
        raise SafeguardRefused("note_required")
    if len(value) > max_length:
        raise SafeguardRefused("note_too_long")
    if contains_my_number(value):  # R14
        raise SafeguardRefused("contains_my_number", my_number_refusal(field))
    return value


def text_sha256(value: str) -> str:
    """What the audit trail keeps of free text: proof of what it said, not the words."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest() if value else ""


def new_reference(prefix: str, now: datetime) -> str:
    return f"{prefix}{japan_date(now):%Y%m%d}-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
