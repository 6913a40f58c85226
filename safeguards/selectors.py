"""Reads: what belongs to one holder (shared by the erasure and the disclosure report), and the
lists of open requests."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from consents.selectors import consent_jlis_ids, consent_serials, mynaportal_link_serials
from driver_records.access import holders_readable
from driver_records.models import DriverRecord
from jlis_gateway.inbox import serials_named_as_holders
from jlis_gateway.models import JlisEvent, QuarantinedEvent
from jlis_gateway.selectors import events_naming, quarantined_by_event_ids
from onestop.models import User

from .models import DisclosureRequest, DisclosureStatus, SuspensionRequest, SuspensionStatus


@dataclass(frozen=True)
class HolderKeys:
    """What names a holder in what J-LIS sent: their certificate serials (current and past) and
    J-LIS's ids of their consents."""

    serials: frozenset[str]
    jlis_consent_ids: frozenset[str]


def holder_keys(record: DriverRecord) -> HolderKeys:
    serials = {record.cert_serial}
    # Past serials: the record was linked to them before (history), or a consent was signed with them.
    for old, new in record.changes.filter(field="cert_serial").values_list("old_value", "new_value"):
        serials |= {old, new}
    serials |= consent_serials(record=record)
    serials |= mynaportal_link_serials(record=record)
    consent_ids = consent_jlis_ids(record=record) - {""}
    # And those J-LIS named as the holder's where the link did not follow: the applier placed the
    # holder's events by them (R13), so what they carried is the holder's to erase and disclose.
    serials |= serials_named_as_holders(dict.fromkeys(serials - {""}, 0), dict.fromkeys(consent_ids, 0)).keys()
    # An empty key would name every event without one: never part of a holder's keys.
    return HolderKeys(frozenset(serials - {""}), frozenset(consent_ids))


def holder_events(keys: HolderKeys) -> QuerySet[JlisEvent]:
    """Events naming the holder: by serial or consent id, or a Mynaportal registration naming one
    of their serials as a previous one (signed with a certificate no record was linked to)."""
    return events_naming(serials=keys.serials, jlis_consent_ids=keys.jlis_consent_ids)


def holder_quarantined(event_ids: set[str]) -> list[QuarantinedEvent]:
    """Unreadable repeats of this holder's events. A quarantined event keeps no values, so one
    that never reached the events table cannot be told to be about anyone (docs/jlis-protocol.md)."""
    return quarantined_by_event_ids(event_ids=event_ids)


def record_suspension_requests(record: DriverRecord) -> list[SuspensionRequest]:
    """The record's suspension requests but the rejected ones (the holder page's section: the
    confirmed one and the open proposal). Whether the service is stopped is the record's own
    fact (DriverRecord.service_stopped_at)."""
    return list(SuspensionRequest.objects.filter(record=record).exclude(status=SuspensionStatus.REJECTED))


def suspensions_waiting(*, user: User) -> QuerySet[SuspensionRequest]:
    """Proposals waiting for a second supervisor, in the user's prefecture (all for auditors)."""
    rows = SuspensionRequest.objects.select_related("record", "proposed_by", "office").filter(
        status=SuspensionStatus.PROPOSED
    )
    return _in_scope(rows, user).order_by("proposed_at", "pk")


def suspensions_decided(*, user: User, limit: int = 50) -> QuerySet[SuspensionRequest]:
    rows = SuspensionRequest.objects.select_related("record", "proposed_by", "decided_by").exclude(
        status=SuspensionStatus.PROPOSED
    )
    return _in_scope(rows, user).order_by("-decided_at", "-pk")[:limit]


def disclosures_open(*, user: User) -> QuerySet[DisclosureRequest]:
    rows = DisclosureRequest.objects.select_related("record", "office").exclude(status=DisclosureStatus.CLOSED)
    return _in_scope(rows, user).order_by("received_on", "pk")


def disclosures_closed(*, user: User, limit: int = 50) -> QuerySet[DisclosureRequest]:
    rows = DisclosureRequest.objects.select_related("record", "office").filter(status=DisclosureStatus.CLOSED)
    return _in_scope(rows, user).order_by("-closed_at", "-pk")[:limit]


def _in_scope(rows: QuerySet, user: User) -> QuerySet:
    return holders_readable(user, rows, "record__prefecture")
