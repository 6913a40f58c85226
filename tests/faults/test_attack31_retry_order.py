"""The retry rounds' order, by the serial an event names and then the holder's (applier/batch.py
`_left`; docs/reliability.md rules (2)-(5)), attacked with backlogs past the grace whose serials
sort against the holders' sequence: several holders moving from serial to serial, each move to a
serial that sorts before the one it leaves (or after), the holders' serials interleaved in that
order, stored newest first or shuffled, applied in batches of 1 to 3, by one run or two at once;
and with counter consents whose certificate serial only they announce (R10, R13).

Expected values come from the independent model (tests/model/holders.py through
tests/faults/world.py's reference_fold), never from the applier: every event applied once, in
each holder's sequence, the records where the model leaves them.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from applier.batch import events_apply_pending
from jlis_gateway.inbox import events_pending_count
from jlis_gateway.models import EventStatus, JlisEvent

from .test_appliers_interleavings import _holder, _latest, _run, statuses
from .test_appliers_unknown_serial_attack import _reflected
from .world import (
    ADDRESSES,
    _model_event,
    assert_matches,
    counter_consent_pending,
    events_copy,
    model_holders,
    outcome,
    records_for_generated,
    reference_fold,
    start_state,
)

pytestmark = [pytest.mark.faults, pytest.mark.postgres]

HOLDERS, DEPTH = 3, 5


def _serial(n: int, holder: int, seq: int, *, descending: bool) -> str:
    """The serial holder `holder`'s move `seq` issues. It begins with the move's rank, so the
    holders' serials interleave in sort order, and a move goes to a serial sorting after the one
    it leaves (ascending) or before it (descending)."""
    rank = 900 - seq if descending else 100 + seq
    return f"7{rank:03d}{n:03d}{holder:02d}"


def _moves(n: int, *, descending: bool) -> tuple[list[int], list[dict[str, Any]], Any]:
    """HOLDERS holders, each moving DEPTH times (move k: the serial of move k-1 -> a new one)."""
    holders = [_holder(n * 10 + k) for k in range(HOLDERS)]
    ids = records_for_generated(holders)
    start = start_state(ids)
    events = []
    for k, h in enumerate(holders):
        serial = h["serial"]
        for seq in range(1, DEPTH + 1):
            new = _serial(n, k, seq, descending=descending)
            events.append(_latest(f"ro{n}_{k}_{seq}", seq, serial, new, ADDRESSES[seq % len(ADDRESSES)]))
            serial = new
    return ids, events, start


def _stored(events: list[dict[str, Any]], order: str) -> list[dict[str, Any]]:
    if order == "newest first":
        return sorted(events, key=lambda e: -e["holder_seq"])
    if order == "holder sequence":
        return sorted(events, key=lambda e: e["holder_seq"])
    shuffled = list(events)
    random.Random(order).shuffle(shuffled)
    return shuffled


def _backlog() -> None:
    JlisEvent.objects.update(received_at=timezone.now() - timedelta(days=365))


@pytest.mark.parametrize("descending", [True, False], ids=["moves sort down", "moves sort up"])
@pytest.mark.parametrize("order", ["newest first", "shuffled 1"])
@pytest.mark.parametrize("batch_size", [1, 3])
def test_a_backlog_of_moves_past_the_grace_is_applied_whole_in_each_holders_sequence(
    transactional_db: None, descending: bool, order: str, batch_size: int
):
    """Holds: one run applies every event, as the model does."""
    n = 100 + 10 * batch_size + (5 if descending else 0) + ["newest first", "shuffled 1"].index(order)
    ids, events, start = _moves(n, descending=descending)
    stored = _stored(events, order)
    events_copy(stored)
    _backlog()
    reference = reference_fold(stored, start=start)
    assert len(reference.applied) == HOLDERS * DEPTH
    result = events_apply_pending(batch_size=batch_size)
    assert (result.waiting, result.held, events_pending_count()) == (0, 0, 0)
    got = outcome()
    got.records = {k: v for k, v in got.records.items() if k in ids}
    assert_matches(got, reference)


@pytest.mark.parametrize("descending", [True, False], ids=["moves sort down", "moves sort up"])
def test_two_runs_at_once_on_a_backlog_of_moves_past_the_grace_leave_what_the_model_does(
    transactional_db: None, descending: bool
):
    """Holds: two runs (each its own session, batches of 2 and 3) on the shuffled backlog, then
    the follow-up a run queues when events are left: what the model gives."""
    n = 150 + (5 if descending else 0)
    ids, events, start = _moves(n, descending=descending)
    stored = _stored(events, "shuffled 3")
    events_copy(stored)
    _backlog()
    reference = reference_fold(stored, start=start)
    errors: list[BaseException] = []
    runs = [_run("A", errors, batch_size=2), _run("B", errors, batch_size=3)]
    for run in runs:
        run.join(120)
    assert not errors, errors
    events_apply_pending(batch_size=2)  # the follow-up, if one was queued
    got = outcome()
    got.records = {k: v for k, v in got.records.items() if k in ids}
    assert_matches(got, reference)


@pytest.mark.parametrize("descending", [True, False], ids=["moves sort down", "moves sort up"])
@pytest.mark.parametrize("batch_size", [1, 2])
def test_holders_whose_first_serial_only_a_counter_consent_announces_are_applied_whole(
    transactional_db: None, descending: bool, batch_size: int
):
    """Holds. Each holder registered again at the counter with a new card (K1, signed with s1,
    J-LIS's id stored); J-LIS reflects it (c1, seq 1, naming s1) and the holder then moves DEPTH
    times from s1. Stored newest first, the reflection last, past the grace: every move waits for
    s1, which only the pending K1 (and the reflection once stored) announces; then the whole
    chain applies, in each holder's sequence (the model)."""
    n = 170 + batch_size + (5 if descending else 0)
    holders = [_holder(n * 10 + k) for k in range(HOLDERS)]
    ids = records_for_generated(holders)
    events: list[dict[str, Any]] = []
    firsts = []
    for k, record_id in enumerate(ids):
        s1 = _serial(n, k, 0, descending=descending)
        counter_consent_pending(
            record_id=record_id, reference=f"G-a31r-{n}-{k}", serial=s1, jlis_consent_id=f"jc31_{n}_{k}"
        )
        firsts.append((k, s1))
        serial = s1
        for seq in range(2, DEPTH + 2):
            new = _serial(n, k, seq, descending=descending)
            events.append(_latest(f"rc{n}_{k}_{seq}", seq, serial, new, ADDRESSES[seq % len(ADDRESSES)]))
            serial = new
    start = start_state(ids)
    stored = _stored(events, "newest first")
    events_copy(stored)
    _backlog()
    first = events_apply_pending(batch_size=batch_size)
    assert (first.applied, first.skipped) == (0, 0)  # everything waits for K1's reflection
    reflections = [_reflected(f"rc{n}_{k}_1", 1, s1, f"jc31_{n}_{k}")[1] for k, s1 in firsts]
    _backlog()
    events_apply_pending(batch_size=batch_size)

    # The model: the reflections first (they link s1, R13), then the moves, in holder sequence.
    model = model_holders(start)
    for event in [*reflections, *(_model_event(e) for e in stored)]:
        model.stored(event)
    model.apply(timezone.now())
    expected = {
        e.id: (EventStatus.APPLIED if e.status == "applied" else e.status, e.reason) for e in model.events.values()
    }
    assert all(status == (EventStatus.APPLIED, "") for status in expected.values())
    assert statuses() == expected
    got = outcome()
    for record_id in ids:
        holder = model.holders[record_id]
        assert got.records[record_id][2:5] == (holder.address, holder.birth_date, holder.serial)
