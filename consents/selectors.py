"""Reads of consents: the terms in force, whether a consent may start, a record's consent status."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from driver_records.access import holders_readable, office_serves
from driver_records.models import DriverRecord
from driver_records.selectors import Eligibility, SearchRow, record_eligibility, search_rows
from onestop.audit_actions import AuditAction
from onestop.models import AuditEvent, Office

from .errors import SERVICE_SUSPENDED, ConsentRefused
from .governing import governing_consents, record_consents
from .models import Channel, Consent, ConsentItem, ConsentStatement, ConsentStatus, MynaportalLink, TermsVersion
from .period import JST, japan_date, period_in_force

# Audit actions whose reason the holder page shows: J-LIS events that were not applied.
EVENT_REFUSAL_ACTION = AuditAction.CONSENT_EVENT_NOT_APPLIED
RECENT_CONSENTS = 20  # the holder page lists at most this many waiting or refused consents
PAST_CONSENTS = 10  # and this many that no longer govern and wait for nothing
# What the holder page shows of the Mynaportal linkage (who recorded it: a username only).
MYNAPORTAL_LINK_SHOWN = ("record", "linked_at", "cert_serial", "linked_by__username")


def terms_version_current(*, on: date | None = None) -> TermsVersion | None:
    """R17: the latest terms version in effect on a Japan date (today by default)."""
    day = on or japan_date(timezone.now())
    return TermsVersion.objects.filter(effective_date__lte=day).order_by("-effective_date", "-id").first()


def consent_start_refusal(*, record: DriverRecord, office: Office | None) -> ConsentRefused | None:
    """Why a consent for this record cannot be started at this office, or None when it can.
    Where first: another prefecture's office learns nothing of the holder (suspension, holding
    status) from the refusal."""
    if office is None:
        return ConsentRefused("no_office")
    if not office_serves(office, record.prefecture):  # R4: the one object-scope rule
        return ConsentRefused("wrong_prefecture")
    if record.service_stopped:  # R15: the service is stopped for this holder
        return ConsentRefused(SERVICE_SUSPENDED)
    eligibility = record_eligibility(record)
    if not eligibility.eligible:  # R1
        return ConsentRefused("not_eligible", eligibility.message)
    if terms_version_current() is None:  # R17
        return ConsentRefused("no_terms")
    return None


def items_in_order(items: list[str]) -> list[str]:
    """Chosen items in their canonical order (address, name, date of birth), without repeats."""
    return [item for item in ConsentItem.values if item in set(items)]


def items_label(items: list[str]) -> str:
    labels = dict(ConsentItem.choices)
    return list_separator().join(str(labels[item]) for item in items_in_order(items))


def list_separator() -> str:
    """Between the words of a list: 、 in Japanese, a comma in English."""
    return pgettext("list separator", ", ")


@dataclass(frozen=True)
class ConsentStatusView:
    """R8: what a record's consent is (items, consent date, last valid day, status)."""

    record: DriverRecord
    eligibility: Eligibility
    current: Consent | None  # the consent that governs the record (R6: governing.py)
    pending: list[Consent]  # the others J-LIS has not reflected yet, newest first
    in_force: bool
    mynaportal_link: MynaportalLink | None
    not_applied: list[AuditEvent] = field(default_factory=list)
    rejected: list[Consent] = field(default_factory=list)  # registered after it, refused by J-LIS
    # The rest that no longer govern and wait for nothing: revoked, superseded, expired, refused,
    # suspended, withdrawn (newest first, at most PAST_CONSENTS).
    past: list[Consent] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.current is None:
            return "none"
        return self.current.status


@dataclass(frozen=True)
class PendingWarning:
    """Consents of a record that wait for J-LIS, oldest first: what a clerk must know before
    registering another (R6). J-LIS decides which governs: the later consent date (the day it
    reflects the consent), then the later in J-LIS's order (consents/governing.py). J-LIS takes
    submissions in the order they reach it, so normally the one registered last governs and each
    earlier one ends superseded when it is reflected."""

    pending: list[Consent]

    @property
    def latest(self) -> Consent:
        """The one that normally governs once J-LIS has reflected them all."""
        return self.pending[-1]

    @property
    def earlier(self) -> list[Consent]:
        return self.pending[:-1]


def pending_warning(*, record: DriverRecord) -> PendingWarning | None:
    """The record's consents waiting for J-LIS (at most RECENT_CONSENTS, oldest first), or None."""
    rows = record.consents.select_related("office").filter(status=ConsentStatus.PENDING).order_by("-id")
    pending = list(rows[:RECENT_CONSENTS])[::-1]
    return PendingWarning(pending) if pending else None


def pending_warning_of(status: ConsentStatusView) -> PendingWarning | None:
    """pending_warning from a status already read (the holder page's): no query of its own. The
    governing consent is among those waiting when none is active yet."""
    waiting = [c for c in (status.current, *status.pending) if c is not None and c.status == ConsentStatus.PENDING]
    pending = sorted(waiting, key=lambda consent: consent.pk)[-RECENT_CONSENTS:]
    return PendingWarning(pending) if pending else None


def statements_open(*, who: Any, limit: int = 20) -> QuerySet[ConsentStatement]:
    """Statements made at the caller's office that can still be signed (unused, unexpired), for
    holders who still live in its prefecture (the object-scope rule), newest first."""
    # A caller without an office matches nothing (IS NULL on a required column); the django-stubs
    # plugin refuses None for a required foreign key.
    rows = ConsentStatement.objects.select_related("record", "office", "terms_version").filter(  # type: ignore[misc]
        office_id=getattr(who, "office_id", None), used_at__isnull=True, expires_at__gt=timezone.now()
    )
    return holders_readable(who, rows, "record__prefecture").order_by("-created_at", "-id")[:limit]


def consent_for_jlis(*, jlis_consent_id: str) -> Consent | None:
    """The consent a J-LIS event names by J-LIS's consent id (stored when it was submitted)."""
    if not jlis_consent_id:
        return None
    return Consent.objects.filter(jlis_consent_id=jlis_consent_id).first()


def records_by_consent_serial(serials: Iterable[str]) -> dict[str, int]:
    """serial -> the record of a pending consent signed with that certificate (J-LIS may name it
    before the reflection that links the record to it reaches us)."""
    wanted = set(serials) - {""}
    if not wanted:
        return {}
    rows = Consent.objects.filter(status=ConsentStatus.PENDING, cert_serial__any_of=wanted).order_by("id")
    return dict(rows.values_list("cert_serial", "record_id"))


def serials_awaiting_reflection(serials: Iterable[str]) -> set[str]:
    """Those of these serials a consent registered at the counter was signed with, J-LIS has
    taken (its id for the consent reached us) and has not reflected yet: the reflection links
    the holder's record to the serial (R13), so an event naming it is not about an unknown one.
    Without J-LIS's id the reflection cannot be matched to the consent (it is skipped
    `unknown_consent`), and a consent J-LIS rejects, or that is withdrawn or revoked, is no
    longer pending: either way nothing holds such an event back for ever."""
    wanted = set(serials) - {""}
    if not wanted:
        return set()
    rows = Consent.objects.filter(status=ConsentStatus.PENDING, cert_serial__any_of=wanted).exclude(jlis_consent_id="")
    return set(rows.values_list("cert_serial", flat=True))


def records_by_mynaportal_serial(serials: Iterable[str]) -> dict[str, int]:
    """serial -> the record whose Mynaportal linkage was made with it (R13)."""
    wanted = set(serials) - {""}
    if not wanted:
        return {}
    return dict(MynaportalLink.objects.filter(cert_serial__any_of=wanted).values_list("cert_serial", "record_id"))


def records_by_jlis_consent_id(jlis_consent_ids: Iterable[str]) -> dict[str, int]:
    """J-LIS's consent id -> the record of our consent it names."""
    wanted = set(jlis_consent_ids) - {""}
    if not wanted:
        return {}
    return dict(Consent.objects.filter(jlis_consent_id__any_of=wanted).values_list("jlis_consent_id", "record_id"))


def jlis_consent_ids_of_records(record_ids: Iterable[int]) -> dict[str, int]:
    """J-LIS's consent id -> its record, for every consent of these records J-LIS has an id for."""
    ids = set(record_ids)
    if not ids:
        return {}
    rows = Consent.objects.filter(record_id__any_of=ids).exclude(jlis_consent_id="")
    return dict(rows.values_list("jlis_consent_id", "record_id"))


def items_consented_or_pending(record_ids: Iterable[int], *, today: date) -> dict[int, frozenset[str]]:
    """R2: for each record, the items of its consents in force (active, not past their last valid
    day: a Japan date) and of those waiting for J-LIS (pending: one may govern soon), together.
    A record with neither is left out."""
    ids = set(record_ids)
    if not ids:
        return {}
    rows = (
        Consent.objects.filter(record_id__any_of=ids)
        .filter(
            Q(status=ConsentStatus.PENDING)
            | (Q(status=ConsentStatus.ACTIVE) & (Q(last_valid_day__isnull=True) | Q(last_valid_day__gte=today)))
        )
        .values_list("record_id", "items")
    )
    items: dict[int, set[str]] = {}
    for record_id, chosen in rows:
        items.setdefault(record_id, set()).update(chosen)
    return {record_id: frozenset(chosen) for record_id, chosen in items.items()}


def consent_in_force(consent: Consent, *, at: datetime | None = None) -> bool:
    if consent.status != ConsentStatus.ACTIVE or not consent.consent_date or not consent.last_valid_day:
        return False
    return period_in_force(
        consent_date=consent.consent_date, last_valid_day=consent.last_valid_day, at=at or timezone.now()
    )


def consent_status(*, record: DriverRecord, at: datetime | None = None) -> ConsentStatusView:
    """The record's consents as the holder page and the API show them, from one read of all of
    them (record_consents) besides the refusals and the Mynaportal linkage."""
    current, consents = record_consents(record)
    since = current.pk if current else 0
    others = [c for c in consents if c.pk != since]
    waiting_or_refused = [
        c for c in others if c.status == ConsentStatus.PENDING or (c.status == ConsentStatus.REJECTED and c.pk > since)
    ][:RECENT_CONSENTS]
    not_applied = list(
        AuditEvent.objects.filter(record_number=record.number, action=EVENT_REFUSAL_ACTION).order_by("-seq")[:5]
    )
    link = MynaportalLink.objects.filter(record=record).select_related("linked_by")
    return ConsentStatusView(
        record=record,
        eligibility=record_eligibility(record),
        current=current,
        pending=[c for c in waiting_or_refused if c.status == ConsentStatus.PENDING],
        in_force=consent_in_force(current, at=at) if current else False,
        mynaportal_link=link.only(*MYNAPORTAL_LINK_SHOWN).first(),
        not_applied=not_applied,
        rejected=[c for c in waiting_or_refused if c.status == ConsentStatus.REJECTED],
        past=[c for c in others if c.status != ConsentStatus.PENDING][:PAST_CONSENTS],
    )


def consent_counts_by_status() -> dict[str, int]:
    """How many consents are in each status (every status, zero included): the operator's gauge.
    One index-only scan of the status index."""
    counts = dict.fromkeys(ConsentStatus.values, 0)
    for row in Consent.objects.order_by().values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts


WORKLIST_ROWS = 100  # per list of the office's worklist; more is said, not shown


@dataclass(frozen=True)
class OfficeDay:
    """The office's worklist, as far as consents go: today's (a Japan day) registrations and
    revocations at the office, and the consents still waiting for J-LIS, for the holders the
    caller serves (the object-scope rule). Each list ends at WORKLIST_ROWS; `more` names those cut."""

    day: date
    registered: list[Consent]
    revoked: list[Consent]
    waiting: list[Consent]  # oldest first: the longest wait is the clerk's first question
    more: frozenset[str]


def office_worklist(*, who: Any, now: datetime | None = None) -> OfficeDay:
    office_id = getattr(who, "office_id", None)
    day = japan_date(now or timezone.now())
    start = datetime.combine(day, time(0), tzinfo=JST)
    end = start + timedelta(days=1)
    consents = holders_readable(who, Consent.objects.select_related("record"), "record__prefecture")
    # A caller without an office matches nothing (IS NULL); the plugin refuses None (statements_open).
    lists = {
        "registered": consents.filter(office_id=office_id, created_at__gte=start, created_at__lt=end).order_by(  # type: ignore[misc]
            "-created_at", "-id"
        ),
        "revoked": consents.filter(  # type: ignore[misc]
            revoked_by__office_id=office_id, revoked_channel=Channel.COUNTER, revoked_at__gte=start, revoked_at__lt=end
        ).order_by("-revoked_at", "-id"),
        "waiting": consents.filter(status=ConsentStatus.PENDING).select_related("office").order_by("created_at", "id"),
    }
    rows = {name: list(rows[: WORKLIST_ROWS + 1]) for name, rows in lists.items()}
    return OfficeDay(
        day=day,
        registered=rows["registered"][:WORKLIST_ROWS],
        revoked=rows["revoked"][:WORKLIST_ROWS],
        waiting=rows["waiting"][:WORKLIST_ROWS],
        more=frozenset(name for name, found in rows.items() if len(found) > WORKLIST_ROWS),
    )


def search_rows_with_consent(records: Iterable[DriverRecord], *, who: Any) -> list[SearchRow]:
    """The holder search's rows (driver_records.selectors.search_rows) with the governing
    consent's status of the holders shown in full (one query; R6's definition)."""
    rows = search_rows(records, who=who)
    readable = {row.pk for row in rows if row.readable}
    states = {pk: fields[0] for pk, fields in governing_consents(readable, "status").items()}
    return [replace(row, consent_state=_consent_state(states.get(row.pk))) if row.readable else row for row in rows]


def _consent_state(status: str | None) -> str:
    return str(ConsentStatus(status).label) if status else _("No consent")


# What the service holds about one holder, for the disclosure report and the erasure (R15, R16).


def consents_of_record(*, record: DriverRecord) -> list[Consent]:
    """The record's consents, oldest first, with their terms and office read along."""
    rows = Consent.objects.filter(record=record).select_related("terms_version", "office")
    return list(rows.order_by("created_at", "pk"))


def statements_without_consent(*, record: DriverRecord) -> list[ConsentStatement]:
    """The record's statements that never became a consent, oldest first, with their office."""
    rows = ConsentStatement.objects.filter(record=record, consent__isnull=True).select_related("office")
    return list(rows.order_by("created_at", "pk"))


def mynaportal_link_of_record(*, record: DriverRecord) -> MynaportalLink | None:
    return MynaportalLink.objects.filter(record=record).first()


def consent_serials(*, record: DriverRecord) -> set[str]:
    """The certificate serials the record's consents were signed with."""
    return set(Consent.objects.filter(record=record).values_list("cert_serial", flat=True))


def mynaportal_link_serials(*, record: DriverRecord) -> set[str]:
    """The certificate serial the record's Mynaportal linkage used."""
    return set(MynaportalLink.objects.filter(record=record).values_list("cert_serial", flat=True))


def consent_jlis_ids(*, record: DriverRecord) -> set[str]:
    """J-LIS's ids of the record's consents."""
    return set(Consent.objects.filter(record=record).values_list("jlis_consent_id", flat=True))
