"""The batch path: applies stored J-LIS events set-wise, one transaction per batch."""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby
from typing import NamedTuple

from django.conf import settings
from django.db import transaction

from consents.selectors import serials_awaiting_reflection
from driver_records.bulk import records_lock_free
from driver_records.linking import Link, link_moves
from jlis_gateway.inbox import (
    EventKind,
    EventRow,
    JlisEvent,
    consent_events_pending,
    consent_id_registering,
    event_get,
    events_lock_next,
    events_lock_pending,
    serials_announced,
    serials_pending_first,
)
from onestop.clock import japan_date

from .consent_events import WAIT_REASONS, consent_event_apply, consent_event_record_id, consent_events_record_ids
from .decide import Decision, EventView, RecordState, Skip, decide_latest_info
from .state import consents_for, lock_records_by_serial, serials_linked_or_seen, serials_of_records
from .write import Applied, commit_without_flush_wait, events_mark, now, segment_write

WAITING = "waiting_for_serial"
HELD = "record_held_elsewhere"


@dataclass
class ApplyResult:
    applied: int = 0
    skipped: int = 0
    waiting: int = 0
    # Left pending because another session held their record when last tried: not waiting for
    # anything of theirs, so the task queues a follow-up for them (applier/tasks.py).
    held: int = 0
    batches: int = 0
    skipped_by_reason: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def count(self, skip_reason: str) -> None:
        if skip_reason:
            self.skipped += 1
            self.skipped_by_reason[skip_reason] += 1
        else:
            self.applied += 1

    def add(self, other: ApplyResult) -> None:
        self.applied += other.applied
        self.skipped += other.skipped
        self.batches += other.batches
        for reason, n in other.skipped_by_reason.items():
            self.skipped_by_reason[reason] += n


def _view(event: JlisEvent | EventRow) -> EventView:
    return EventView(event.event_id, event.holder_seq, event.serial, event.occurred_at, event.payload)


def apply_latest_info(
    event: JlisEvent | EventRow,
    decision: Decision,
    record: RecordState,
    applied: list[Applied],
    index: dict[str, RecordState],
) -> None:
    """Change the in-memory record as the decision says; the caller writes it once per batch."""
    old: dict[str, object] = {}
    new: dict[str, object] = {}
    for item, value in decision.changes.items():
        old[item], new[item] = getattr(record, item), value
        setattr(record, item, value)
    linked = Link(record.cert_serial, record.cert_seq, record.cert_not_after)
    moved = link_moves(linked, Link(decision.new_serial, event.holder_seq, decision.new_not_after))
    # J-LIS named the new serial the holder's even where the link does not follow it (a later
    # sequence linked already): a later event of this batch naming it is the holder's (R13).
    index.setdefault(decision.new_serial, record)
    if moved is not None:  # R10/R13: only forward, by the holder's sequence
        if moved.serial != record.cert_serial:
            old["cert_serial"], new["cert_serial"] = record.cert_serial, moved.serial
            record.cert_serial = moved.serial
            index[record.cert_serial] = record  # a later event of this batch may name either serial
        if moved.not_after != record.cert_not_after:
            old["cert_not_after"], new["cert_not_after"] = record.cert_not_after, moved.not_after
            record.cert_not_after = moved.not_after
        record.cert_seq = moved.seq
    record.jlis_seq = event.holder_seq
    applied.append(Applied(record, event.event_id, old, new))


# Where an event stands in its holder's order (_turn).
Turn = tuple[int, int]


def _turn(event: JlisEvent | EventRow) -> Turn:
    """Where an event stands in its holder's order: J-LIS's holder sequence, then the order stored
    (a repeat under another id comes after the first). Only a holder's own events are compared."""
    return event.holder_seq, event.pk


# An event left for a retry round (_left): the serial it names, then its turn.
Left = tuple[str, int, int]


def _left(event: JlisEvent | EventRow) -> Left:
    """How a retry round orders what was left: by the serial named, then the holder's order. A
    holder's events on one serial come together and in turn, so a backlog J-LIS delivered newest
    first is applied in a few rounds (in the order stored, each round applied only its last
    batch: quadratic in the batches it spans); a batch of the round holds few holders, so runs
    going at once meet each other's records no more than in the order stored (in the holder's
    order, every batch held some of every holder, and four runs took twenty times as long)."""
    return event.serial, event.holder_seq, event.pk


def _earliest(turns: Iterable[tuple[int, Turn]]) -> dict[int, Turn]:
    """record id -> the first of the turns given for it."""
    first: dict[int, Turn] = {}
    for record_id, turn in turns:
        first[record_id] = min(turn, first.get(record_id, turn))
    return first


def _latest_info_segment(
    events: list[EventRow], at: datetime, grace: timedelta, result: ApplyResult, waiting: list[Left], held: list[Left]
) -> None:
    locked = lock_records_by_serial(e.serial for e in events)
    index = locked.by_serial
    # A holder's events go in the holder's order (J-LIS's sequence), whatever order they reached
    # us in: an event waits while one before it in that order names its serial and is pending
    # outside this batch (another applier holds it, it waits, or no run took it yet), and behind
    # one of this batch that waits or is held. Read after the records' lock: an applier that held
    # one of them has committed by then, and its events are no longer pending (a record another
    # session holds now is not taken: its events are left for a later run).
    # Before in the holder's order means of the same holder: for an event whose record is known,
    # a pending event naming any serial the record is or was linked to (R13: a late event names
    # a past serial); for one whose serial is not linked yet, one naming that serial.
    owners = serials_of_records(list({r.id: r for r in index.values()}.values()))
    owners |= {serial: record.id for serial, record in index.items()}
    first = serials_pending_first(serials={e.serial for e in events} | owners.keys(), excluding=[e.pk for e in events])
    first_of_record = _earliest((owners[serial], pending) for serial, pending in first.items() if serial in owners)
    consent_turns = _consent_events_first()
    blocked: set[str] = set()
    blocked_records: set[int] = set()
    consents = consents_for(r.id for r in index.values())
    unknown = {e.serial for e in events if e.serial not in index and e.serial not in locked.held_elsewhere}
    # A pending event links them, whoever holds it, or J-LIS's reflection of a consent registered
    # at the counter with that certificate will (J-LIS names the serial once it has the consent).
    # serial -> the holder sequence it is announced from: only an event after that one in J-LIS's
    # order waits for it (the event issuing a serial comes before every event naming it; two
    # events moving to each other's serial waited for each other for ever). A consent awaiting
    # its reflection announces it to every event: its reflection is not in yet.
    announced = serials_announced(serials=unknown)
    announced |= dict.fromkeys(serials_awaiting_reflection(unknown - announced.keys()), 0)
    # Read after the announcements, not with the records' lock: an applier that links one of these
    # serials commits its link and its event's status at once, so a commit before the announcements'
    # read shows here as a link (or a link once held), one after it was an announcement there.
    seen = serials_linked_or_seen(unknown - announced.keys()) if unknown - announced.keys() else set()
    today = japan_date(at)
    applied: list[Applied] = []
    bumps: dict[int, int] = defaultdict(int)
    outcomes: dict[str, list[int]] = defaultdict(list)
    decisions: dict[int, Decision] = {}
    # Events of different holders never wait for each other, so the holder sequence alone orders
    # the batch: each holder's events come in its own order, a move before the events naming the
    # serial it issues.
    for event in sorted(events, key=_turn):
        turn = _turn(event)
        record = index.get(event.serial)
        if event.serial in locked.held_elsewhere:
            held.append(_left(event))  # its record is in another session's hands: a later run applies it
        elif (
            event.serial in blocked
            or (record is not None and record.id in blocked_records)
            or (first_of_record.get(record.id, turn) if record is not None else first.get(event.serial, turn)) < turn
        ):
            waiting.append(_left(event))  # after the holder's event before it, whoever applies it
        elif record is not None and consent_turns.get(record.id, turn) < turn:
            waiting.append(_left(event))  # after the holder's consent event before it (a revocation: R9)
        elif record is None and (
            event.serial in seen
            or announced.get(event.serial, event.holder_seq) < event.holder_seq
            or at - event.received_at < grace
        ):
            waiting.append(_left(event))  # an event not yet applied links, or may link, this serial
        else:
            decision = decide_latest_info(_view(event), record, consents.get(record.id) if record else None, today)
            decisions[event.pk] = decision
            outcomes[decision.skip].append(event.pk)
            if decision.skip:
                result.count(decision.skip)
                continue
            assert record is not None
            apply_latest_info(event, decision, record, applied, index)
            bumps[record.id] += 1
            result.count("")
            continue
        blocked.add(event.serial)  # the holder's later events here wait behind this one
        if record is not None:
            blocked_records.add(record.id)
    changed = list({a.record.id: a.record for a in applied}.values())
    segment_write(changed, bumps, applied, outcomes, decisions, at)


def _consent_events_first(excluding: int | None = None) -> dict[int, Turn]:
    """record id -> the turn (_turn) of the first pending consent event about it. A holder's
    latest information waits for it when it comes before in the holder's order, as a consent
    event waits for latest information before it: a revocation left pending (held, waiting, or
    another applier's) must not be overtaken by the holder's next move (R9), nor by its next
    consent event. Each waits only for what comes before it in the holder's sequence: no circle.
    `excluding`: the asking consent event's own id."""
    events = [event for event in consent_events_pending() if event.pk != excluding]
    records = consent_events_record_ids(events) if events else {}
    return _earliest((records[event.pk], _turn(event)) for event in events if event.pk in records)


def _consent_event(
    event: JlisEvent, at: datetime, grace: timedelta, result: ApplyResult, waiting: list[Left], held: list[Left]
) -> None:
    turn = _consent_event_waits_its_turn(event)
    if turn:  # not counted against the grace: its turn is only put off
        (held if turn == HELD else waiting).append(_left(event))
        return
    outcome = consent_event_apply(event, at)
    if not outcome.applied and outcome.reason in WAIT_REASONS and _consent_may_come(event, at, grace):
        waiting.append(_left(event))
        return
    reason = "" if outcome.applied else outcome.reason
    result.count(reason)
    events_mark({reason: [event.pk]}, {}, at)


def _consent_may_come(event: JlisEvent, at: datetime, grace: timedelta) -> bool:
    """An event about a consent we do not know waits within the grace (the relay's answer may
    not be stored yet), and past it while a pending registration through Mynaportal makes that
    consent: skipped, a revocation J-LIS reported before the registration reached us was lost and
    the consent the holder revoked governed the feed (R9)."""
    return at - event.received_at < grace or consent_id_registering(jlis_consent_id=event.jlis_consent_id)


def _consent_event_waits_its_turn(event: JlisEvent) -> str:
    """A consent event keeps the holder's order as latest information does. Its record is taken
    only if no other session holds it: waiting for it here, with the batch's other records held,
    could close a circle with another applier (each holding what the other waits for). And it
    waits while a pending "latest information" event before it in the holder's order names the
    record's serial: the holder's earlier event goes first, whoever holds it (a reflection moves
    the link)."""
    record_id = consent_event_record_id(event)
    if record_id is None:
        return ""  # nothing to hold: the consent services say what becomes of it
    locked = records_lock_free({record_id})
    if not locked:
        return HELD
    # The serials the record is or was linked to only: an event naming the consent event's own
    # serial may be waiting for this very event to link it (a reflection that reached us late).
    serials = serials_of_records([RecordState(*locked[0])]).keys()
    first = serials_pending_first(serials=set(serials), excluding=[event.pk]).values()
    if first and min(first) < _turn(event):
        return WAITING
    # And while a pending consent event about the record comes before it: a revocation that
    # waited for its registration to make the consent was overtaken by the holder's next
    # registration, and found its consent superseded instead of revoking it (R6, R9).
    earlier = _consent_events_first(excluding=event.pk).get(record_id)
    return WAITING if earlier is not None and earlier < _turn(event) else ""


@contextmanager
def cycle_collector_paused() -> Iterator[None]:
    """A batch makes a few hundred thousand short-lived objects, freed by reference counting;
    the cycle collector, triggered by their number, would walk the worker's whole heap again and
    again for none of them (~7% of a batch). It runs as before between batches."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Batch(NamedTuple):
    result: ApplyResult
    waiting: list[Left]  # left waiting for the holder's earlier event or a serial
    held: list[Left]  # left because another session held their record
    last: int  # the last id taken (0: none was pending)
    untried: list[Left]  # of `event_ids`, those after the batch's end, for the same round


def _batch(
    at: datetime, grace: timedelta, *, event_ids: list[int] | None = None, after: int = 0, limit: int = 0
) -> _Batch:
    """One transaction: consecutive "latest information" events set-wise, consent events one by
    one in between (each sees what the events before it did). The events are the pending ones
    among `event_ids`, or the next `limit` pending after id `after`."""
    result, waiting, held, untried = ApplyResult(batches=1), list[Left](), list[Left](), list[Left]()
    with cycle_collector_paused(), transaction.atomic(durable=True):
        events = (
            events_lock_pending(event_ids=event_ids)
            if event_ids is not None
            else events_lock_next(after=after, limit=limit)
        )
        if events and all(e.kind == EventKind.LATEST_INFO for e in events):
            commit_without_flush_wait()
        last = 0
        for n, (is_latest_info, group) in enumerate(groupby(events, key=lambda e: e.kind == EventKind.LATEST_INFO)):
            rows = list(group)
            if is_latest_info and n:
                # One run of latest information per batch, as its first: what follows a consent
                # event is the next batch's (in a retry round, the round's next batch).
                untried = [_left(row) for row in events if row.pk > last]
                break
            if is_latest_info:
                _latest_info_segment(rows, at, grace, result, waiting, held)
            else:
                for row in rows:  # rare: read as a model, as the consent services take it
                    _consent_event(event_get(pk=row.pk), at, grace, result, waiting, held)
            last = rows[-1].pk
    return _Batch(result, waiting, held, last, untried)


def events_apply_pending(*, batch_size: int = 1000, at: datetime | None = None) -> ApplyResult:
    """Apply every pending J-LIS event, oldest first, in batches.

    An event about a serial no record has yet is left waiting while an earlier event may still
    link it (events can arrive out of order); after the grace period it is skipped as unknown.
    An event whose record another session holds is left for a later run (`held`).
    """
    at = at or now()
    grace = timedelta(seconds=settings.JLIS_UNKNOWN_SERIAL_GRACE_SECONDS)
    total, waiting, held, after = ApplyResult(), list[Left](), list[Left](), 0
    while True:
        batch = _batch(at, grace, after=after, limit=batch_size)
        if not batch.last:
            break
        after = batch.last
        total.add(batch.result)
        waiting += batch.waiting
        held += batch.held
    # Events that waited for a serial or the holder's earlier event, or for a record another
    # session held, get another chance once the others are in: rounds until one changes nothing.
    # A round takes them by serial, then in the holder's order (_left); each event of a round
    # is tried in it (a batch ending at a consent event hands the rest to the round's next
    # batch), so one still waiting never keeps another from its chance.
    # A round that applies and skips nothing ends them: what is left waits for what this run
    # cannot do (another session's record or event; the follow-up or a later run takes it). Its
    # count of events left is no measure: those another run claims meanwhile drop out of it,
    # and with several runs at once the rounds then went on for ever.
    while waiting or held:
        again = sorted(waiting + held)
        waiting, held = [], []
        todo, done = again, total.applied + total.skipped
        while todo:
            batch = _batch(at, grace, event_ids=[pk for *_, pk in todo[:batch_size]])
            todo = batch.untried + todo[batch_size:]
            total.add(batch.result)
            waiting += batch.waiting
            held += batch.held
        if total.applied + total.skipped == done:
            break
    total.waiting, total.held = len(waiting), len(held)
    return total


__all__ = ["WAITING", "ApplyResult", "Skip", "events_apply_pending"]
