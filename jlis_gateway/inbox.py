"""The inbox as the apps above read and close it: the stored J-LIS events the applier claims and
marks (selectors and services on the gateway's table), and the recent events the holder page lists.

The gateway owns jlis_gateway_jlisevent: the applier reaches it only through here, raw SQL
included. On PostgreSQL a batch's keys go as one JSON parameter unpacked into an array
(`= ANY(...)`) and rows come back through psycopg's C loaders (onestop.sql_params); the outcome
UPDATE is one statement per batch, which the applier runs inside its pipeline (no round trip of
its own).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

from django.db import connection
from django.db.models import CharField, F
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from onestop.sql_params import any_json_values, fetch_rows, json_rows, json_values

from .models import EventKind, EventStatus, JlisEvent

K = TypeVar("K")  # whose a serial is: a record's id, or anything the caller keys its holders by

# Consent events that, once applied, link the record to the serial they name.
LINKING_CONSENT_KINDS = (EventKind.CONSENT_REFLECTED, EventKind.CONSENT_REGISTERED)

EVENT_FIELDS = ("id", "event_id", "kind", "holder_seq", "serial", "occurred_at", "payload", "received_at")


class EventRow(NamedTuple):
    """A stored event as the batch reads it (the fields of JlisEvent it needs, `pk` its id)."""

    pk: int
    event_id: str
    kind: str
    holder_seq: int
    serial: str
    occurred_at: datetime
    payload: dict[str, Any]
    received_at: datetime


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def events_lock_pending(*, event_ids: list[int]) -> list[EventRow]:
    """Those of these events still pending, locked (skipping any another applier holds), by id."""
    if _postgres():
        return _event_rows(f"id = {any_json_values('bigint')}", [json_values(event_ids)], 0)
    rows = (
        JlisEvent.objects.select_for_update(skip_locked=True)
        .filter(pk__in=event_ids, status=EventStatus.PENDING)
        .order_by("pk")
        .values_list(*EVENT_FIELDS)
    )
    return [EventRow(*row) for row in rows]


def events_lock_next(*, after: int, limit: int) -> list[EventRow]:
    """The next `limit` pending events after id `after`, locked (skipping any another applier holds)."""
    if _postgres():
        return _event_rows("id > %s", [after], limit)
    rows = (
        JlisEvent.objects.select_for_update(skip_locked=True)
        .filter(pk__gt=after, status=EventStatus.PENDING)
        .order_by("pk")
        .values_list(*EVENT_FIELDS)[:limit]
    )
    return [EventRow(*row) for row in rows]


def _event_rows(where: str, params: list[Any], limit: int) -> list[EventRow]:
    rows = fetch_rows(
        f"SELECT {', '.join(EVENT_FIELDS)} FROM jlis_gateway_jlisevent"  # noqa: S608 (fixed names)
        f" WHERE {where} AND status = %s ORDER BY id {'LIMIT %s' if limit else ''} FOR UPDATE SKIP LOCKED",
        [*params, EventStatus.PENDING, *([limit] if limit else [])],
    )
    # JSONField values come back as text on Django's connections; the ORM would decode them so.
    return [EventRow._make((*r[:6], json.loads(r[6]) if isinstance(r[6], str) else r[6], r[7])) for r in rows]


def serials_pending_first(*, serials: set[str], excluding: list[int]) -> dict[str, tuple[int, int]]:
    """serial -> (holder sequence, id) of the first pending "latest information" event naming it
    in the holder's order (J-LIS's sequence, then the order stored), leaving out the events with
    these ids (the caller's own): an event another applier holds, one left waiting, or one not
    taken yet. Served by the serial index."""
    if not serials:
        return {}
    if _postgres():
        # Each serial is one probe of the serial index (a serial names a handful of events, whatever
        # their status); status and kind are checked on the rows found, outside the probe (OFFSET 0
        # keeps PostgreSQL from moving them in). Checked inside, they let the planner, whose
        # statistics lag while a poll stores a backlog (they may count nothing pending), walk every
        # pending event by jlis_event_pending_idx, comparing each with the batch's thousand serials
        # (0.5 s a batch for a 100,000-event backlog). The caller's ids are left out by a hashed NOT
        # IN: `NOT (id = ANY(array))` compared each row found with every id of the batch.
        sql = (  # noqa: S608 (fixed names)
            "SELECT DISTINCT ON (serial) serial, holder_seq, id FROM ("
            "SELECT serial, holder_seq, id, status, kind FROM jlis_gateway_jlisevent"
            " WHERE serial = {serials} OFFSET 0) AS found"
            " WHERE status = %s AND kind = %s AND id NOT IN (SELECT json_array_elements_text(%s::json)::bigint)"
            " ORDER BY serial, holder_seq, id"
        ).format(serials=any_json_values("text"))
        params = [json_values(serials), EventStatus.PENDING, EventKind.LATEST_INFO, json_values(excluding)]
        return {serial: (seq, pk) for serial, seq, pk in fetch_rows(sql, params)}
    first: dict[str, tuple[int, int]] = {}
    rows = (
        JlisEvent.objects.filter(serial__in=serials, status=EventStatus.PENDING, kind=EventKind.LATEST_INFO)
        .exclude(pk__in=excluding)
        .values_list("serial", "holder_seq", "pk")
    )
    for serial, seq, pk in rows:
        first[serial] = min((seq, pk), first.get(serial, (seq, pk)))
    return first


def consent_events_pending() -> list[JlisEvent]:
    """The pending consent events (every kind but latest information), in the order stored:
    few, read through jlis_event_consent_pending_idx."""
    return list(JlisEvent.objects.filter(status=EventStatus.PENDING).exclude(kind=EventKind.LATEST_INFO).order_by("pk"))


def serials_announced(*, serials: set[str]) -> dict[str, int]:
    """serial -> the lowest holder sequence of a pending event that links a holder's record to it,
    whoever holds it: an event naming the serial after that one in J-LIS's order is not about an
    unknown serial, the link is on its way. Latest information announces its payload's new serial
    (jlis_event_announces_idx); a consent reflected or registered through Mynaportal announces
    the serial it names (the record follows it, R13), read among the few pending consent events
    (jlis_event_consent_pending_idx). The sequence is the caller's to compare: J-LIS's next event
    after a change names the serial the change issued, so the event issuing a serial comes before
    every event naming it, and one after it announces nothing to it (two events moving to each
    other's serial waited for each other for ever)."""
    if not serials:
        return {}
    linking = (
        JlisEvent.objects.filter(status=EventStatus.PENDING, serial__in=serials)
        .exclude(kind=EventKind.LATEST_INFO)
        .filter(kind__in=LINKING_CONSENT_KINDS)
        .values_list("serial", "holder_seq")
    )
    first: dict[str, int] = {}
    for serial, seq in [*((to, seq) for to, _, seq in _moves_to(serials, EventStatus.PENDING)), *linking]:
        first[serial] = min(seq, first.get(serial, seq))
    return first


def consent_id_registering(*, jlis_consent_id: str) -> bool:
    """Whether a pending registration through Mynaportal makes the consent J-LIS names so: an
    event about it (a revocation J-LIS reported, R9) that reached us before the registration is
    not about an unknown consent, the consent is on its way (jlis_event_consent_id_idx)."""
    return (
        bool(jlis_consent_id)
        and JlisEvent.objects.filter(
            jlis_consent_id=jlis_consent_id, kind=EventKind.CONSENT_REGISTERED, status=EventStatus.PENDING
        ).exists()
    )


# Each serial is one probe of jlis_event_announces_idx; the status is checked on the rows found,
# outside the probe (OFFSET 0 keeps PostgreSQL from moving it in): checked inside, it let the
# planner, whose statistics lag while a poll stores a backlog, walk every pending event instead
# (as the door's lookup did, services/door.py).
_MOVED_TO_SQL = f"""
SELECT found.moving_to, found.serial, found.holder_seq FROM (
    SELECT payload->>'new_serial' AS moving_to, serial, holder_seq, status FROM jlis_gateway_jlisevent
    WHERE payload->>'new_serial' = {any_json_values("text")} AND kind = %s OFFSET 0
) AS found
WHERE found.status = %s AND found.serial <> found.moving_to
"""  # noqa: S608 (fixed names; the values go as parameters)


def _moves_to(serials: set[str], status: str) -> list[tuple[str, str, int]]:
    """(serial moved to, serial moved from, holder sequence) of each "latest information" event in
    `status` that moves a holder to one of these serials."""
    if _postgres():
        rows = fetch_rows(_MOVED_TO_SQL, [json_values(serials), EventKind.LATEST_INFO, status])
        return [(moving_to, serial, seq) for moving_to, serial, seq in rows]
    # As text: a JSON key's `__in` compares with each value read as JSON (SQLite's JSON_EXTRACT of
    # it), which a serial is not ("malformed JSON").
    moving_to = Cast(KeyTextTransform("new_serial", "payload"), output_field=CharField())
    return list(
        JlisEvent.objects.filter(kind=EventKind.LATEST_INFO, status=status)
        .annotate(moving_to=moving_to)
        .filter(moving_to__in=serials)
        .exclude(serial=F("moving_to"))
        .values_list("moving_to", "serial", "holder_seq")
    )


def serials_moved_to_by_applied(*, serials: set[str]) -> dict[str, str]:
    """serial -> the serial an applied "latest information" event moved its holder from to it.
    J-LIS named it the holder's (R13) even where the record's link, at a later sequence already
    (a reflection naming the holder's serial then), did not follow: the holder's next event,
    naming it, is theirs (jlis_event_announces_idx)."""
    return {to: left for to, left, _ in _moves_to(serials, EventStatus.APPLIED)} if serials else {}


def serials_moved_from_by_applied(*, serials: set[str]) -> list[tuple[str, str]]:
    """(serial, the serial an applied "latest information" event moved its holder to from it), for
    these serials: the way back of serials_moved_to_by_applied, for the serials J-LIS named as a
    record's that the link did not follow (jlis_event_serial_idx)."""
    if not serials:
        return []
    rows = (
        JlisEvent.objects.filter(serial__any_of=serials, kind=EventKind.LATEST_INFO, status=EventStatus.APPLIED)
        .annotate(moving_to=Cast(KeyTextTransform("new_serial", "payload"), output_field=CharField()))
        .values_list("serial", "moving_to")
    )
    return [(serial, moving_to) for serial, moving_to in rows if moving_to and moving_to != serial]


def serials_named_by_applied_consent_events(*, serials: set[str]) -> dict[str, str]:
    """serial -> J-LIS's consent id of an applied reflection or registration through Mynaportal
    naming it: J-LIS named it the holder's current serial then (R13), even where the record's link,
    at a later sequence already, did not follow (jlis_event_serial_idx)."""
    if not serials:
        return {}
    rows = JlisEvent.objects.filter(
        serial__any_of=serials, kind__in=LINKING_CONSENT_KINDS, status=EventStatus.APPLIED
    ).values_list("serial", "jlis_consent_id")
    return {serial: consent_id for serial, consent_id in rows if consent_id}


def serials_of_applied_consent_events(*, jlis_consent_ids: set[str]) -> dict[str, str]:
    """serial -> J-LIS's consent id, for each serial an applied reflection or registration through
    Mynaportal of these consents named as the holder's (jlis_event_consent_id_idx)."""
    if not jlis_consent_ids:
        return {}
    rows = JlisEvent.objects.filter(
        jlis_consent_id__any_of=jlis_consent_ids, kind__in=LINKING_CONSENT_KINDS, status=EventStatus.APPLIED
    )
    # Said outright, the empty id lets PostgreSQL use the index (partial on a non-empty id): it
    # cannot see that from ids passed as one parameter, and read every event instead (24 ms a batch).
    return dict(rows.exclude(jlis_consent_id="").values_list("serial", "jlis_consent_id"))


def serials_named_as_holders(owners: dict[str, K], consent_owners: dict[str, K]) -> dict[str, K]:
    """`owners` (serial -> whose: the serials linked now or before) with every serial J-LIS named
    as the same holder's where the link did not follow (R13): the serial an applied reflection or
    Mynaportal registration of the consents in `consent_owners` (J-LIS's consent id -> whose)
    named, and each applied move's new serial from any of these, along its chain. The applier
    places the holder's events by them (rule (3)); a suspension's erasure and a disclosure find
    the holder's events by them (R15, R16)."""
    found = dict(owners)
    for serial, consent_id in serials_of_applied_consent_events(jlis_consent_ids=set(consent_owners)).items():
        found.setdefault(serial, consent_owners[consent_id])
    frontier = set(found)
    while frontier:  # each round one move further along J-LIS's chain; a serial is added once
        moved = {to: found[left] for left, to in serials_moved_from_by_applied(serials=frontier) if to not in found}
        found |= moved
        frontier = set(moved)
    return found


def events_pending_count() -> int:
    """How many events are pending (those a run left waiting, those another session holds, new
    ones): a count over the partial index of pending ids."""
    return JlisEvent.objects.filter(status=EventStatus.PENDING).count()


def event_get(*, pk: int) -> JlisEvent:
    """One stored event as a model (a consent event: the consent services take it so)."""
    return JlisEvent.objects.get(pk=pk)


def event_certificate_drop(*, event: JlisEvent) -> None:
    """The certificate's one place is the consent it was signed for (docs/personal-data.md): the
    event keeps no copy of it, whatever came of the registration (R3, R15)."""
    if "certificate" in event.payload:
        event.payload = {k: v for k, v in event.payload.items() if k != "certificate"}
        event.save(update_fields=["payload"])


def events_mark(*, outcomes: dict[str, list[int]], dropped: dict[int, tuple[str, ...]], at: datetime) -> None:
    """Event statuses ("" applied, else the reason it was skipped); the items in `dropped`, which
    nobody consented to, are erased from each event's payload (R2). PostgreSQL: one UPDATE in all,
    so each event row is written once (queued, not waited for, inside a pipeline); elsewhere one
    UPDATE per outcome, then the erasures."""
    if _postgres():
        rows = [(pk, reason, list(dropped.get(pk, ()))) for reason, pks in outcomes.items() for pk in pks]
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE jlis_gateway_jlisevent AS ev
                SET status = CASE WHEN e->>1 = '' THEN %s ELSE %s END, reason = e->>1, processed_at = %s,
                    payload = CASE WHEN json_array_length(e->2) = 0 THEN ev.payload
                                   ELSE ev.payload - ARRAY(SELECT json_array_elements_text(e->2)) END
                FROM json_array_elements(%s::json) AS e
                WHERE ev.id = (e->>0)::bigint
                """,
                [EventStatus.APPLIED, EventStatus.SKIPPED, at, json_rows(rows)],
            )
        return
    for reason, pks in outcomes.items():
        status = EventStatus.APPLIED if reason == "" else EventStatus.SKIPPED
        JlisEvent.objects.filter(pk__in=pks).update(status=status, reason=reason, processed_at=at)
    scrub: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for event_pk, items in dropped.items():
        if items:
            scrub[items].append(event_pk)
    for items, pks in scrub.items():
        for event in JlisEvent.objects.filter(pk__in=pks).only("payload"):
            event.payload = {k: v for k, v in event.payload.items() if k not in items}
            event.save(update_fields=["payload"])


def events_about_serials(*, serials: Iterable[str], limit: int) -> list[JlisEvent]:
    """The latest events naming any of these certificate serials, newest first."""
    return list(JlisEvent.objects.filter(serial__in=set(serials)).order_by("-id")[:limit])


__all__ = [
    "EVENT_FIELDS",
    "EventKind",
    "EventRow",
    "EventStatus",
    "JlisEvent",
    "consent_events_pending",
    "consent_id_registering",
    "event_certificate_drop",
    "event_get",
    "events_about_serials",
    "events_lock_next",
    "events_lock_pending",
    "events_mark",
    "events_pending_count",
    "serials_announced",
    "serials_moved_from_by_applied",
    "serials_moved_to_by_applied",
    "serials_named_by_applied_consent_events",
    "serials_of_applied_consent_events",
    "serials_pending_first",
]
