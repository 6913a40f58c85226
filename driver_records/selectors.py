"""Reads of driver records."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import F, QuerySet
from django.db.models.functions import Collate
from django.utils.translation import gettext_lazy as _

from .access import HolderAccess, holder_access
from .models import DriverRecord, HoldingStatus, RecordChange
from .normalise import name_search_key, record_number_input


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    code: str
    message: str


_REFUSALS: dict[str, tuple[str, str]] = {
    HoldingStatus.LICENCE_BOTH: (
        "two_cards",
        _(
            "The holder has both a plastic licence and a licence on the My Number card (2枚持ち). "
            "Only holders whose licence is on the card alone (マイナ免許証のみ) may use the service."
        ),
    ),
    HoldingStatus.LICENCE_PLASTIC_ONLY: (
        "plastic_only",
        _(
            "The holder's licence is a plastic card only (免許証のみ). Only holders whose licence "
            "is on the My Number card alone (マイナ免許証のみ) may use the service."
        ),
    ),
    HoldingStatus.HISTORY_BOTH: (
        "two_cards",
        _(
            "The holder has both a driving-history certificate and one on the My Number card. "
            "Only holders whose certificate is on the card alone (マイナ経歴証明書のみ) may use "
            "the service."
        ),
    ),
    HoldingStatus.HISTORY_PLASTIC_ONLY: (
        "plastic_only",
        _(
            "The holder's driving-history certificate is a plastic card only (運転経歴証明書のみ). "
            "Only holders whose certificate is on the My Number card alone (マイナ経歴証明書のみ) "
            "may use the service."
        ),
    ),
}


def record_eligibility(record: DriverRecord) -> Eligibility:
    """R1: only マイナ免許証のみ and マイナ経歴証明書のみ holders may use the service."""
    if record.holds_card_only:
        return Eligibility(True, "eligible", str(_("Eligible for the one-stop service.")))
    code, message = _REFUSALS[record.holding_status]
    return Eligibility(False, code, str(message))


def record_search(*, query: str, limit: int = 50) -> QuerySet[DriverRecord]:
    """Records by exact record number, or by name (any spacing, full- or half-width)."""
    number = record_number_input(query)
    # A search reads what a result row may show, never the address or birthdate.
    records = DriverRecord.objects.only("number", "name", "prefecture", "kind", "holding_status")
    if number.isdigit():
        return records.filter(number=number)[:limit]
    key = name_search_key(query)
    if not key:
        return DriverRecord.objects.none()
    # Code point order: on PostgreSQL the prefix is then a range of record_name_search_idx
    # (migration 0005); SQLite's default collation is that order already.
    by_name = Collate("name_key", "C") if connection.vendor == "postgresql" else F("name_key")
    return records.filter(name_key__startswith=key).order_by(by_name, "number")[:limit]


@dataclass(frozen=True)
class SearchRow:
    """One search result as the searcher may see it: the directory (name, number, prefecture)
    for every holder; kind and holding status only for holders whose data the searcher reads."""

    pk: int
    number: str
    name: str
    prefecture: str
    kind: str | None
    holding_status: str | None


def search_rows(records: Iterable[DriverRecord], *, who: Any) -> list[SearchRow]:
    rows = []
    for r in records:
        readable = holder_access(who, r.prefecture) >= HolderAccess.READ
        rows.append(
            SearchRow(
                pk=r.pk,
                number=r.number,
                name=r.name,
                prefecture=r.get_prefecture_display(),
                kind=r.get_kind_display() if readable else None,
                holding_status=r.get_holding_status_display() if readable else None,
            )
        )
    return rows


def record_history(*, record: DriverRecord, limit: int = 100) -> QuerySet[RecordChange]:
    return record.changes.select_related("actor").order_by("-changed_at", "-id")[:limit]


def serials_linked(serials: set[str]) -> set[str]:
    """Which of these certificate serials a record is linked to now (one index probe each)."""
    return set(DriverRecord.objects.filter(cert_serial__in=serials).values_list("cert_serial", flat=True))
