"""Reads of driver records."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection
from django.db.models import F, QuerySet
from django.db.models.functions import Collate
from django.shortcuts import get_object_or_404
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .access import HolderAccess, holder_access, holders_readable
from .models import DriverRecord, HoldingStatus, RecordChange
from .normalise import name_parts, name_query_key, record_number_input


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    code: str
    message: str


_REFUSALS: dict[str, tuple[str, str | Promise]] = {
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


@dataclass(frozen=True)
class SearchResult:
    records: list[DriverRecord]
    more: bool  # more holders match than are shown: the clerk narrows (the birthdate)
    by_number: bool  # the query was a record number


def record_search(*, query: str, who: Any, birth_date: date | None = None, limit: int = 50) -> SearchResult:
    """Records by exact record number, or by name: the whole name or its start (family name), or
    the given name, typed with any spacing, width or variant kanji (normalise.py); narrowed to a
    birthdate when one is given, among the holders whose birthdate `who` reads."""
    number = record_number_input(query)
    if number.isdigit():
        return SearchResult(list(_search_columns().filter(number=number)[:1]), more=False, by_number=True)
    key = name_query_key(query)
    if not key:
        return SearchResult([], more=False, by_number=False)
    found = {r.pk: r for r in records_by_name(key, birth_date=birth_date, who=who)[: limit + 1]}
    if len(name_parts(query)) == 1:  # one word may be a given name as well as a family name
        for r in records_by_given_name(key, birth_date=birth_date, who=who)[: limit + 1]:
            found.setdefault(r.pk, r)
    ordered = sorted(found.values(), key=lambda r: (r.name_key, r.number))
    return SearchResult(ordered[:limit], more=len(ordered) > limit, by_number=False)


def _search_columns() -> QuerySet[DriverRecord]:
    # What a result row may show (search_rows drops the personal columns for other prefectures).
    return DriverRecord.objects.only(
        "number", "name", "name_key", "prefecture", "kind", "holding_status", "birth_date", "address"
    )


def _in_code_point_order(column: str) -> Any:
    # On PostgreSQL the prefix is then a range of an index in "C" order (migrations 0005, 0009);
    # SQLite's default collation is that order already.
    return Collate(column, "C") if connection.vendor == "postgresql" else F(column)


def _born_on(records: QuerySet[DriverRecord], birth_date: date | None, who: Any) -> QuerySet[DriverRecord]:
    """Narrowed to a birthdate among the holders whose birthdate `who` reads; the others are left
    out. Narrowing the directory rows (another prefecture's holders) by the date would answer
    "is this their birthdate?" for data the searcher may not read: tried date by date, the
    search would give it away."""
    if birth_date is None:
        return records
    return holders_readable(who, records.filter(birth_date=birth_date))


def records_by_name(key: str, *, birth_date: date | None = None, who: Any = None) -> QuerySet[DriverRecord]:
    """Holders whose folded whole name starts with `key` (record_name_search_idx)."""
    records = _born_on(_search_columns().filter(name_key__startswith=key), birth_date, who)
    return records.order_by(_in_code_point_order("name_key"), "number")


def records_by_given_name(key: str, *, birth_date: date | None = None, who: Any = None) -> QuerySet[DriverRecord]:
    """Holders whose folded given name starts with `key` (record_given_search_idx)."""
    records = _born_on(_search_columns().filter(given_key__startswith=key), birth_date, who)
    return records.order_by(_in_code_point_order("given_key"), "number")


@dataclass(frozen=True)
class SearchRow:
    """One search result as the searcher may see it: the directory (name, number, prefecture)
    for every holder; the rest only for holders whose personal data the searcher reads."""

    pk: int
    number: str
    name: str
    prefecture: str
    readable: bool
    kind: str = ""
    holding_status: str = ""
    birth_date: date | None = None
    address: str = ""
    consent_state: str = ""  # filled in by consents.selectors.search_rows_with_consent


def search_rows(records: Iterable[DriverRecord], *, who: Any) -> list[SearchRow]:
    """The rows as `who` may see them, their consent state left blank (the consents app adds it)."""
    rows = []
    access: dict[str, HolderAccess] = {}  # by prefecture: a page of results names a few
    for r in records:
        if r.prefecture not in access:
            access[r.prefecture] = holder_access(who, r.prefecture)
        if access[r.prefecture] < HolderAccess.READ:
            rows.append(SearchRow(r.pk, r.number, r.name, r.get_prefecture_display(), readable=False))
            continue
        rows.append(
            SearchRow(
                pk=r.pk,
                number=r.number,
                name=r.name,
                prefecture=r.get_prefecture_display(),
                readable=True,
                kind=r.get_kind_display(),
                holding_status=r.get_holding_status_display(),
                birth_date=r.birth_date,
                address=r.address,
            )
        )
    return rows


def record_history(*, record: DriverRecord, limit: int = 100) -> QuerySet[RecordChange]:
    return record.changes.select_related("actor").order_by("-changed_at", "-id")[:limit]


def record_serials(*, record: DriverRecord) -> set[str]:
    """The certificate serials the record is linked to now or was linked to before."""
    serials = {record.cert_serial} - {""}
    serials |= set(record.changes.filter(field="cert_serial").values_list("old_value", flat=True))
    serials.discard("")  # the first link's old value: it names no certificate
    return serials


def serials_linked(serials: set[str]) -> set[str]:
    """Which of these certificate serials a record is linked to now (one index probe each)."""
    return set(DriverRecord.objects.filter(cert_serial__any_of=serials).values_list("cert_serial", flat=True))


def records_by_serial(serials: Iterable[str]) -> dict[str, int]:
    """serial -> the id of the record it names (R13), as the applier finds it: the record linked
    to it now, else the one it was linked to before (the latest such). Serials naming none are
    left out."""
    wanted = set(serials) - {""}
    if not wanted:
        return {}
    found = dict(DriverRecord.objects.filter(cert_serial__any_of=wanted).values_list("cert_serial", "pk"))
    before = wanted - found.keys()
    if before:
        rows = (
            RecordChange.objects.filter(field="cert_serial", old_value__any_of=before)
            .order_by("changed_at", "pk")
            .values_list("old_value", "record_id")
        )
        found |= dict(rows)  # the latest change of each serial wins
    return found


def serial_linked_elsewhere(*, record: DriverRecord, serial: str, issuer_key_id: str) -> bool:
    """R13: whether another record is linked to this certificate (serial and issuer key)."""
    return (
        DriverRecord.objects.filter(cert_serial=serial, cert_issuer_key_id=issuer_key_id).exclude(pk=record.pk).exists()
    )


def records_service_stopped(record_ids: Iterable[int]) -> set[int]:
    """R15: which of these records the service is stopped for (one query; for readers of many
    records, such as the door; a reader holding the record reads `record.service_stopped`)."""
    ids = set(record_ids)
    if not ids:
        return set()
    stopped = DriverRecord.objects.filter(pk__any_of=ids, service_stopped_at__isnull=False)
    return set(stopped.values_list("pk", flat=True))


def record_locked(record_id: int) -> DriverRecord | None:
    """The record, locked to the end of the caller's transaction (None when there is none)."""
    return DriverRecord.objects.select_for_update().filter(pk=record_id).first()


def record_or_none(*, pk: int) -> DriverRecord | None:
    return DriverRecord.objects.filter(pk=pk).first()


def record_or_404(*, pk: int) -> DriverRecord:
    """The record for a page or an API call; Http404 when there is none."""
    return get_object_or_404(DriverRecord, pk=pk)


def records_all() -> QuerySet[DriverRecord]:
    """Every record, for a reader that reads its own rows along (the holder page's governing
    consent, consents.governing.record_with_consents)."""
    return DriverRecord.objects.all()


def record_locked_for_consent(*, consent_id: int) -> DriverRecord:
    """The record a consent is for, locked (its row only) to the end of the caller's transaction:
    one statement through the consent's foreign key (DriverRecord.DoesNotExist when none)."""
    return DriverRecord.objects.select_for_update(of=("self",)).get(consents__pk=consent_id)


def record_by_serial(*, serial: str) -> DriverRecord | None:
    """The record linked to this certificate serial now."""
    return DriverRecord.objects.filter(cert_serial=serial).first()


def record_by_serial_before(*, serial: str) -> DriverRecord | None:
    """A record that was linked to this certificate serial before (its history), read along."""
    change = RecordChange.objects.filter(field="cert_serial", old_value=serial).select_related("record").first()
    return change.record if change is not None else None
