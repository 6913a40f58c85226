"""Reads for the gateway: the monitor's figures."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import Count, Min, Q, QuerySet

from driver_records.access import holders_readable

from .models import (
    EventKind,
    EventStatus,
    JlisEvent,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    PollState,
    QuarantinedEvent,
)

if TYPE_CHECKING:
    from consents.models import Consent

FEED = "events"


@dataclass(frozen=True)
class GatewayStatus:
    poll: PollState | None
    oldest_pending_at: datetime | None  # the lag: how long the oldest unapplied event has waited
    events: dict[str, int]
    quarantined: int
    recent_quarantined: list[QuarantinedEvent]
    outbox: dict[str, int]
    oldest_outbox_at: datetime | None
    outbox_problems: list[OutboxMessage]


def outbox_message(*, message_id: int) -> OutboxMessage | None:
    """One outbox row with its consent and the consent's record, or None."""
    return OutboxMessage.objects.select_related("consent__record").filter(pk=message_id).first()


def gateway_status() -> GatewayStatus:
    poll = PollState.objects.filter(name=FEED).first()
    events = JlisEvent.objects.aggregate(
        stored=Count("id"),
        applied=Count("id", filter=Q(status=EventStatus.APPLIED)),
        skipped=Count("id", filter=Q(status=EventStatus.SKIPPED)),
        pending=Count("id", filter=Q(status=EventStatus.PENDING)),
        oldest_pending=Min("received_at", filter=Q(status=EventStatus.PENDING)),
    )
    oldest_pending = events.pop("oldest_pending")
    # Each row in exactly one column: "waiting" is a pending row not yet tried, "retrying" one
    # tried before (a pending row used to be counted in both).
    outbox = OutboxMessage.objects.aggregate(
        pending=Count("id", filter=Q(status=OutboxStatus.PENDING, attempts=0)),
        sending=Count("id", filter=Q(status=OutboxStatus.SENDING)),
        retrying=Count("id", filter=Q(status=OutboxStatus.PENDING, attempts__gt=0)),
        failed=Count("id", filter=Q(status=OutboxStatus.FAILED)),
        sent=Count("id", filter=Q(status=OutboxStatus.SENT)),
        oldest=Min("created_at", filter=Q(status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING])),
    )
    oldest_outbox = outbox.pop("oldest")
    problems = (
        OutboxMessage.objects.filter(Q(status=OutboxStatus.FAILED) | ~Q(last_error=""))
        .exclude(status=OutboxStatus.SENT)
        .select_related("consent")
        .order_by("-id")[:20]
    )
    return GatewayStatus(
        poll=poll,
        oldest_pending_at=oldest_pending,
        events=events,
        quarantined=QuarantinedEvent.objects.filter(resolved_at=None).count(),
        recent_quarantined=list(QuarantinedEvent.objects.order_by("-id")[:20]),
        outbox=outbox,
        oldest_outbox_at=oldest_outbox,
        outbox_problems=list(problems),
    )


@dataclass(frozen=True)
class GatewayBacklog:
    """What health checks and metrics watch: cheap to read (indexed), unlike the monitor's totals."""

    poll: PollState | None
    events_pending: int
    oldest_pending_at: datetime | None
    quarantined: int
    outbox: dict[str, int]  # every status, zero included
    oldest_unsent_at: datetime | None  # the oldest row still to be sent (pending or sending)


def gateway_backlog() -> GatewayBacklog:
    pending = JlisEvent.objects.filter(status=EventStatus.PENDING).aggregate(n=Count("id"), oldest=Min("received_at"))
    outbox = dict.fromkeys(OutboxStatus.values, 0)
    for row in OutboxMessage.objects.order_by().values("status").annotate(n=Count("id")):
        outbox[row["status"]] = row["n"]
    oldest_unsent = OutboxMessage.objects.filter(status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING]).aggregate(
        oldest=Min("created_at")
    )["oldest"]
    return GatewayBacklog(
        poll=PollState.objects.filter(name=FEED).first(),
        events_pending=pending["n"],
        oldest_pending_at=pending["oldest"],
        quarantined=QuarantinedEvent.objects.filter(resolved_at=None).count(),
        outbox=outbox,
        oldest_unsent_at=oldest_unsent,
    )


def events_oldest_pending(*, limit: int) -> list[tuple[datetime, str, str]]:
    """(received_at, kind, serial) of the oldest pending events, oldest first (the pending index)."""
    return list(
        JlisEvent.objects.filter(status=EventStatus.PENDING)
        .order_by("id")
        .values_list("received_at", "kind", "serial")[:limit]
    )


@dataclass(frozen=True)
class GatewayTrouble:
    polling: bool  # the last poll of J-LIS's events failed
    sending: bool  # a message to J-LIS failed and waits to be tried again


def gateway_trouble() -> GatewayTrouble:
    """For the counter pages' banner: one query of two EXISTS, on the poll row and the outbox's
    pending rows (few, and read through outbox_due_idx). Written as one SELECT rather than a
    UNION of two sliced querysets, which SQLite (the embedded default) refuses."""
    sql, params = _trouble_statement(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        polling, sending = cursor.fetchone()
    return GatewayTrouble(polling=bool(polling), sending=bool(sending))


@functools.cache
def _trouble_statement(vendor: str) -> tuple[str, list[Any]]:
    """The banner's statement, written by the ORM once per database kind: it has no variable
    part, and every counter page asks it (writing it cost more than running it)."""
    poll = PollState.objects.filter(name=FEED).exclude(last_error="").values("pk").order_by()
    send = (
        OutboxMessage.objects.filter(status=OutboxStatus.PENDING, attempts__gt=0)
        .exclude(last_error="")
        .values("pk")
        .order_by()
    )
    poll_sql, poll_params = poll.query.sql_with_params()
    send_sql, send_params = send.query.sql_with_params()
    return f"SELECT EXISTS ({poll_sql}), EXISTS ({send_sql})", [*poll_params, *send_params]


def outbox_failures(*, who: object, limit: int = 100) -> list[OutboxMessage]:
    """Messages to J-LIS that failed (refused by J-LIS, or given up after the last attempt) for
    the holders `who` may read, newest first, with their consent and record."""
    rows = OutboxMessage.objects.filter(status=OutboxStatus.FAILED).select_related("consent__record")
    return list(holders_readable(who, rows, "consent__record__prefecture").order_by("-id")[:limit])


def outbox_submission_claimed(consent: Consent) -> bool:
    """Whether the relay claimed a submission of the consent (sending or sent, or tried once
    and waiting to be sent again or given up: a try whose answer was lost may have reached
    J-LIS): J-LIS may hold it, so ending the consent must be told to J-LIS."""
    submissions = OutboxMessage.objects.filter(consent=consent, kind=OutboxKind.SUBMIT_CONSENT)
    return submissions.filter(Q(status__in=[OutboxStatus.SENDING, OutboxStatus.SENT]) | Q(attempts__gt=0)).exists()


def events_naming(*, serials: frozenset[str], jlis_consent_ids: frozenset[str]) -> QuerySet[JlisEvent]:
    """Events naming a holder by one of these serials or consent ids, or a Mynaportal
    registration naming one of the serials as a previous one (signed with a certificate no
    record was linked to). None when there is no key: an empty key would name every event."""
    if not serials and not jlis_consent_ids:
        return JlisEvent.objects.none()
    keys = Q(serial__in=serials) | Q(jlis_consent_id__in=jlis_consent_ids)
    return JlisEvent.objects.filter(keys | Q(pk__in=_registrations_naming(serials)))


def _registrations_naming(serials: frozenset[str]) -> list[int]:
    if not serials:
        return []
    text_match = Q()
    for serial in serials:
        text_match |= Q(payload__previous_serials__icontains=serial)
    candidates = JlisEvent.objects.filter(text_match, kind=EventKind.CONSENT_REGISTERED).only("pk", "payload")
    return [e.pk for e in candidates if serials & set(e.payload.get("previous_serials", []))]


def quarantined_by_event_ids(*, event_ids: set[str]) -> list[QuarantinedEvent]:
    """Quarantined repeats of these events, in the order they came."""
    if not event_ids:
        return []
    return list(QuarantinedEvent.objects.filter(event_id__in=event_ids).order_by("pk"))
