"""The change history of a record in a clerk's words: one entry per change (an edit at the
counter, one J-LIS event), fields by their names, values as a clerk reads them (和暦 for a
birthdate, the prefecture's name, the holding status's label), and a new signing certificate
summarised as one line with its particulars on demand."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Field
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from onestop.prefectures import PREFECTURE_CHOICES

from .models import ChangeSource, DriverRecord, HoldingStatus, RecordChange, RecordKind

CERTIFICATE_FIELDS = ("cert_serial", "cert_issuer_key_id", "cert_not_after")
JLIS_OPERATOR = gettext_lazy("J-LIS (automatic update)")


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    old: object  # str, or a date / datetime the template writes in 和暦 / Japan's time
    new: object


@dataclass
class HistoryEntry:
    changed_at: datetime
    operator: str
    automatic: bool
    reason: str = ""  # why staff made the change (a holding-status change gives one, R12)
    changes: list[FieldChange] = field(default_factory=list)
    certificate: list[FieldChange] = field(default_factory=list)  # the particulars, on demand


def field_label(name: str) -> str:
    """A record field's name as the counter reads it (the history stores the field's code)."""
    labels = {
        "cert_serial": _("Serial number"),
        "cert_issuer_key_id": _("Issuer key identifier"),
        "cert_not_after": _("Valid until"),
    }
    if name in labels:
        return labels[name]
    try:
        model_field = DriverRecord._meta.get_field(name)
        return str(model_field.verbose_name).capitalize() if isinstance(model_field, Field) else name
    except Exception:  # a field since removed still shows by its code
        return name


def _value(name: str, text: str) -> object:
    if not text:
        return ""
    try:
        if name == "birth_date":
            return date.fromisoformat(text)
        if name == "cert_not_after":
            return datetime.fromisoformat(text)
    except ValueError:
        return text
    by_field: dict[str, Mapping[str, object]] = {
        "prefecture": dict(PREFECTURE_CHOICES),
        "holding_status": dict(HoldingStatus.choices),
        "kind": dict(RecordKind.choices),
    }
    choices = by_field.get(name)
    return str(choices.get(text, text)) if choices else text


def _operator(change: RecordChange) -> str:
    if change.source == ChangeSource.JLIS:
        return str(JLIS_OPERATOR)
    if change.actor is not None:
        return change.actor.get_full_name() or change.actor.get_username()
    return str(ChangeSource(change.source).label)


def history_entries(changes: Iterable[RecordChange]) -> list[HistoryEntry]:
    """The rows of record_history (newest first) grouped into what each change did."""
    entries: list[HistoryEntry] = []
    keys: list[tuple[object, ...]] = []
    for change in changes:
        key = (change.changed_at, change.source, change.actor_id, change.jlis_event_id)
        if not keys or keys[-1] != key:
            keys.append(key)
            entries.append(
                HistoryEntry(
                    changed_at=change.changed_at,
                    operator=_operator(change),
                    automatic=change.source == ChangeSource.JLIS,
                )
            )
        entry = entries[-1]
        entry.reason = entry.reason or change.reason
        row = FieldChange(
            change.field,
            field_label(change.field),
            _value(change.field, change.old_value),
            _value(change.field, change.new_value),
        )
        (entry.certificate if change.field in CERTIFICATE_FIELDS else entry.changes).append(row)
    for entry in entries:
        entry.certificate.sort(key=lambda c: CERTIFICATE_FIELDS.index(c.field))
    return entries
