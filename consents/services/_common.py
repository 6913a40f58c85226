"""What the consent services share: who acts, and how it is audited."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from onestop.audit import AuditEntry, audit_log
from onestop.audit_actions import AuditAction
from onestop.models import Office, User

from ..models import Consent, CounterTerminal
from ..period import japan_date

# Who can act on a consent: a staff user, or a counter terminal bound to an office.
Actor = User | CounterTerminal

# Crockford's base32 without I, L, O, U: reference numbers are read aloud and typed back.
_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def actor_office(actor: Actor | None) -> Office | None:
    return getattr(actor, "office", None)


def audit_who(actor: Actor | None) -> dict[str, Any]:
    """The AuditEntry fields naming the actor (terminals are named, they are not users)."""
    if isinstance(actor, CounterTerminal):
        return {"actor": None, "actor_label": f"terminal:{actor.name}", "office": actor.office}
    if actor is None:
        return {"actor": None, "actor_label": "jlis"}
    return {"actor": actor}


def audit_consent(
    action: AuditAction,
    consent: Consent,
    *,
    actor: Actor | None,
    new: Mapping[str, Any],
    old: Mapping[str, Any] | None = None,
) -> None:
    audit_log(
        AuditEntry(
            action=action,
            subject_type="consent",
            subject_id=str(consent.pk),
            record_number=consent.record.number,
            serial=consent.cert_serial,
            old_values=old or {},
            new_values=new,
            **audit_who(actor),
        )
    )


def new_reference(now: datetime) -> str:
    """A receipt's reference number: the Japan date and eight random characters (40 bits)."""
    return f"C{japan_date(now):%Y%m%d}-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
