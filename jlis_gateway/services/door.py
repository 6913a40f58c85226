"""The door (R2): what the poller keeps of J-LIS's latest information, decided before it is stored.

An item may be kept only if the holder chose it. A "latest information" event is stored with:
- when its serial names a record: the items of that record's consents in force or waiting for
  J-LIS (pending: one may govern soon), together; none for a holder the service is stopped for
  (R15);
- when it names none: no items at all, only its identifiers, sequence, serials and the new
  certificate's end of validity.

A serial names a record when the record is or was linked to it (R13), when a pending consent of
the record was signed with it (J-LIS may name it before the reflection that links the record
reaches us), or when an event not yet applied announces it, since events can arrive before the
one that makes their serial known (the applier waits for that one): stored pending events and
the page's other new events, whatever their order in the page:
- latest information announces its `new_serial` for the record its own serial names (chains too);
- a Mynaportal registration names the holder's serial and earlier ones (`previous_serials`): all
  are the record's that the first of them naming one belongs to (as `record_for_mynaportal` finds
  it, the Mynaportal linkage's serial included), and its items count as a pending consent's;
- a reflection names the holder's current serial at J-LIS, for the record of the consent it
  reflects.
An applied event keeps naming its serial where the record's link, at a later sequence already,
did not follow (R13): a move's new serial, a reflection's or a registration's serial; the applier
places the holder's next events by it, so the door does too.

The applier still decides what is applied (applier/decide.py) and erases the rest;
the door makes sure that until then nothing is kept that no consent covers.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date

from django.db import connection
from django.db.models import CharField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from driver_records.selectors import records_by_serial, records_service_stopped
from onestop.sql_params import any_json_values, json_values

from ..client import Event
from ..client.fields import ITEMS
from ..consent_side import ConsentSide, consent_side
from ..inbox import serials_moved_to_by_applied, serials_named_by_applied_consent_events
from ..models import EventKind, EventStatus, JlisEvent


@dataclasses.dataclass(frozen=True)
class _Registration:
    serials: list[str]  # the serial it was signed with, then the earlier ones, newest first
    items: list[str]


def events_at_the_door(events: Sequence[Event], *, today: date) -> list[Event]:
    """The page's new events as they may be stored: latest information with only the items the
    door lets in (module docstring); every other event as it came. `today` is a Japan date."""
    consents = consent_side()  # none registered: raise, so that nothing is stored unfiltered
    latest = [e for e in events if e.kind == EventKind.LATEST_INFO]
    if not latest:
        return list(events)
    owners, registrations = _owners(consents, {e.serial for e in latest}, events)
    records = {owners[e.serial] for e in latest if e.serial in owners}
    allowed = _items_allowed(consents, records, owners, registrations, today)
    kept = []
    for event in events:
        if event.kind == EventKind.LATEST_INFO:
            items = allowed.get(owners.get(event.serial, 0), frozenset())
            data = {k: v for k, v in event.data.items() if k not in ITEMS or k in items}
            event = dataclasses.replace(event, data=data)
        kept.append(event)
    return kept


def _owners(
    consents: ConsentSide, wanted: set[str], new: Sequence[Event]
) -> tuple[dict[str, int], list[_Registration]]:
    """serial -> the record it names, for the wanted serials that name one (and the serials met on
    the way), and the registrations not yet applied.

    Read in this order on purpose: an applier may commit between two reads (READ COMMITTED), and
    what it applies moves a fact to a later read (a pending event's announcement becomes a link, a
    pending consent an active one linked to its serial), never to an earlier one.
    """
    said = [(e.kind, e.serial, e.data) for e in new if e.kind != EventKind.LATEST_INFO]
    said += list(
        JlisEvent.objects.filter(status=EventStatus.PENDING)
        .exclude(kind=EventKind.LATEST_INFO)  # rare: the partial index jlis_event_consent_pending_idx
        .values_list("kind", "serial", "payload")
    )
    registrations = [
        _Registration([serial, *data.get("previous_serials", [])], list(data.get("items", [])))
        for kind, serial, data in said
        if kind == EventKind.CONSENT_REGISTERED
    ]
    reflected = [(s, data.get("consent_id", "")) for kind, s, data in said if kind == EventKind.CONSENT_REFLECTED]
    by_consent = consents.records_by_jlis_consent_id(consent_id for _, consent_id in reflected)
    announced = {serial: by_consent[consent_id] for serial, consent_id in reflected if consent_id in by_consent}

    # serial -> serials whose record it shares, once the events naming them are applied
    shares: dict[str, set[str]] = defaultdict(set)
    for registration in registrations:
        for serial in registration.serials:
            shares[serial].update(s for s in registration.serials if s != serial)
    for event in new:
        if event.kind == EventKind.LATEST_INFO:
            shares[event.data["new_serial"]].add(event.serial)

    frontier = wanted | {s for r in registrations for s in r.serials}
    # The walk below follows chains of serials; what it may meet is read up front, set-wise (the
    # stored announcements along every chain, then what names each serial met), and the walk runs
    # in memory: a page costs the same statements however long its holders' chains.
    stored: dict[str, set[str]] = defaultdict(set)
    for new_serial, serial in _stored_announcements(frontier):
        stored[new_serial].add(serial)
    named = _named(consents, frontier | {serial for serials in stored.values() for serial in serials})

    owners: dict[str, int] = {}
    looked: set[str] = set()
    while frontier:
        looked |= frontier
        for serial in frontier & stored.keys():
            shares[serial] |= stored[serial]
        found = {serial: named[serial] for serial in frontier if serial in named}
        owners |= found
        rest = frontier - found.keys()
        owners |= {s: announced[s] for s in rest if s in announced}
        frontier = {s for r in rest - owners.keys() for s in shares.get(r, ())} - looked
    # Read last: an event applied after the pending announcements were read moves its fact here.
    owners |= _named_by_applied(consents, looked - owners.keys())
    _spread(owners, shares)
    return owners, registrations


def _named_by_applied(consents: ConsentSide, serials: set[str], seen: frozenset[str] = frozenset()) -> dict[str, int]:
    """The records of serials an applied event named as the holder's where the record's link, at
    a later sequence already, did not follow (R13), as the applier places their events
    (applier/state.py): a reflection's or Mynaportal registration's serial, its consent's record;
    an applied move's new serial, the record of the serial the move left, back along the chain."""
    if not serials:
        return {}
    named = serials_named_by_applied_consent_events(serials=serials)
    by_consent = consents.records_by_jlis_consent_id(named.values())
    found = {serial: by_consent[consent_id] for serial, consent_id in named.items() if consent_id in by_consent}
    moved = serials_moved_to_by_applied(serials=serials - found.keys())  # new serial -> the one left
    if moved:
        left = set(moved.values())
        known = _named(consents, left)
        known |= _named_by_applied(consents, left - known.keys() - serials - seen, seen | serials)
        found |= {serial: known[was] for serial, was in moved.items() if was in known}
    return found


def _stored_announcements(serials: set[str]) -> list[tuple[str, str]]:
    """(new serial, serial) of the stored latest information not yet applied announcing these
    serials, and of that announcing theirs, back along each chain (jlis_event_announces_idx). On
    PostgreSQL one recursive statement; elsewhere one per link."""
    if not serials:
        return []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_CHAIN_SQL, [json_values(serials), *_ANNOUNCING, *_ANNOUNCING])
            return [(announced, serial) for announced, serial in cursor.fetchall()]
    found: list[tuple[str, str]] = []
    seen, frontier = set(serials), set(serials)
    while frontier:
        rows = list(
            JlisEvent.objects.filter(status=EventStatus.PENDING, kind=EventKind.LATEST_INFO)
            # As text: a JSON key's `__in` reads each value as JSON (SQLite), which a serial is not.
            .annotate(announced=Cast(KeyTextTransform("new_serial", "payload"), output_field=CharField()))
            .filter(announced__in=frontier)
            .order_by()
            .values_list("announced", "serial")
        )
        found += rows
        frontier = {serial for _, serial in rows} - seen
        seen |= frontier
    return found


_ANNOUNCING = (EventKind.LATEST_INFO, EventStatus.PENDING)
# Each serial is one probe of jlis_event_announces_idx (by serial, latest information whatever its
# status); the status is checked on the rows found, outside the probe (OFFSET 0 keeps PostgreSQL
# from moving it in). Checked inside, it let the planner, whose statistics lag while a poll
# catches up (they may count no pending event at all), read every pending event by
# jlis_event_pending_idx instead. UNION (not UNION ALL) ends the walk at rows already met, a cycle
# of serials included.
_CHAIN_SQL = f"""
WITH RECURSIVE chain (announced, serial) AS (
    SELECT found.announced, found.serial FROM (
        SELECT payload->>'new_serial' AS announced, serial, status FROM jlis_gateway_jlisevent
        WHERE payload->>'new_serial' = {any_json_values("text")} AND kind = %s OFFSET 0
    ) AS found
    WHERE found.status = %s
  UNION
    SELECT link.announced, link.serial FROM chain, LATERAL (
        SELECT ev.payload->>'new_serial' AS announced, ev.serial, ev.status FROM jlis_gateway_jlisevent AS ev
        WHERE ev.payload->>'new_serial' = chain.serial AND ev.kind = %s OFFSET 0
    ) AS link
    WHERE link.status = %s
)
SELECT announced, serial FROM chain
"""  # noqa: S608 (fixed names; the values go as parameters)


def _named(consents: ConsentSide, serials: set[str]) -> dict[str, int]:
    """The records these serials name directly: a pending consent's certificate first (see
    _owners on the order), then the Mynaportal linkage, then the record linked now or before,
    which wins."""
    found = consents.records_by_consent_serial(serials)
    found |= consents.records_by_mynaportal_serial(serials)
    return found | records_by_serial(serials)


def _spread(owners: dict[str, int], shares: dict[str, set[str]]) -> None:
    """Give each serial an announcement ties to a known one that record, until nothing changes."""
    changed = True
    while changed:
        changed = False
        for serial, others in shares.items():
            if serial in owners:
                continue
            source = next((s for s in sorted(others) if s in owners), None)
            if source is not None:
                owners[serial] = owners[source]
                changed = True


def _items_allowed(
    consents: ConsentSide,
    records: Iterable[int],
    owners: dict[str, int],
    registrations: list[_Registration],
    today: date,
) -> dict[int, frozenset[str]]:
    """record id -> the items its latest information may keep."""
    ids = set(records)
    consented = consents.items_consented_or_pending(ids, today=today)
    allowed = {record_id: set(items) for record_id, items in consented.items()}
    for registration in registrations:
        record_id = next((owners[s] for s in registration.serials if s in owners), None)
        if record_id in ids:
            allowed.setdefault(record_id, set()).update(registration.items)
    stopped = records_service_stopped(ids)
    return {record_id: frozenset(items) for record_id, items in allowed.items() if record_id not in stopped}
