"""An outsider's attack on the applier's holder order (DOMAIN.md R9, R10, R13; docs/reliability.md,
"Several appliers at once keep each holder's order", rules (1)-(5); docs/rules.md, "holder's
order"): a holder's events are to be applied in J-LIS's holder sequence, whatever order they
reached us in and whichever apply run holds them.

Expected values come from the rules and the independent model (tests/model/holders.py, directly
or through tests/faults/world.py), each with a control where one applier takes the same events in
one batch, or the same events arrive in the holder's order.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from applier import batch as applier_batch
from applier.batch import events_apply_pending
from driver_records.models import DriverRecord, RecordChange
from jlis_gateway.models import EventStatus
from tests.model.holders import Event as ModelEvent

from .test_appliers_concurrent import _patched
from .test_appliers_interleavings import _holder, _latest, _run, a_holds_the_first_while_b_runs, statuses
from .test_appliers_unknown_serial_attack import _reflected, _revoked, _status_of
from .world import (
    ADDRESSES,
    _model_event,
    counter_consent_pending,
    events_copy,
    model_holders,
    outcome,
    records_for_generated,
    reference_fold,
    start_state,
)

pytestmark = [pytest.mark.faults, pytest.mark.postgres]


def model_runs(start: Any, *runs: list[ModelEvent]) -> tuple[dict[str, tuple[str, str]], Any]:
    """The model's statuses after applying each run's events once they are all stored (an event
    of a later run reached us after the run before had applied what it could)."""
    model = model_holders(start)
    for events in runs:
        for event in events:
            model.stored(event)
        model.apply(timezone.now())
    return {e.id: (e.status, e.reason) for e in model.events.values()}, model


def history(record_id: int) -> set[tuple[str, str]]:
    return set(RecordChange.objects.filter(record_id=record_id).values_list("jlis_event_id", "field"))


# --- R13: the holder's earlier event names a serial the record was linked to before -------------


def _relinked_by_a_reflection(n: int) -> tuple[int, str, str, str, Any, ModelEvent]:
    """The holder on s0 (consent K0) moved at J-LIS (m3, seq 3: s0 -> s1, a new address) and
    registered again at the counter with the new card (K1, signed with s1). J-LIS reflects K1
    (c5, seq 5, naming s1, the holder's serial at J-LIS), and c5 reaches us and is applied before
    m3 does: the record follows s1 (R13), its data are still those of seq 0, and s0 is a serial it
    was linked to before. Returns the record, s0, s1, K1's J-LIS id, the start and c5."""
    holder = _holder(n)
    s0, s1 = holder["serial"], f"61{n:04d}01"
    [record_id] = records_for_generated([holder])
    k1 = f"jc_ho_new_{n}"
    counter_consent_pending(record_id=record_id, reference=f"G-ho-{n}", serial=s1, jlis_consent_id=k1)
    start = start_state([record_id])
    _, c5 = _reflected(f"ho{n}_5", 5, s1, k1)
    events_apply_pending()
    record = DriverRecord.objects.get(pk=record_id)
    assert (record.cert_serial, record.jlis_seq, record.address) == (s1, 0, ADDRESSES[0])
    return record_id, s0, s1, k1, start, c5


def _late_move_then_revocation(n: int, *, order: str) -> tuple[int, dict[str, tuple[str, str]]]:
    """After c5, the holder revokes K1 through Mynaportal (r6, seq 6), and m3 (seq 3, naming s0,
    the record's past serial) reaches us late: stored after r6 ("late") or before it ("jlis")."""
    record_id, s0, s1, k1, start, c5 = _relinked_by_a_reflection(n)
    m3 = _latest(f"ho{n}_3", 3, s0, s1, ADDRESSES[1])
    if order == "jlis":
        events_copy([m3])
    _, r6 = _revoked(f"ho{n}_6", 6, s1, k1)
    if order == "late":
        events_copy([m3])
    expected, _ = model_runs(start, [c5], [_model_event(m3), r6])
    return record_id, expected


def _late_move_expected(n: int, record_id: int, expected: dict[str, tuple[str, str]]) -> None:
    """R9 and the holder's order: m3 (seq 3) came before the revocation (seq 6), so it is applied
    (the address J-LIS gave at seq 3) and only then is K1 revoked."""
    assert expected[f"ho{n}_3"] == ("applied", "")
    assert expected[f"ho{n}_6"] == ("applied", "")
    assert statuses() == _status_of(expected)
    assert DriverRecord.objects.get(pk=record_id).address == ADDRESSES[1]
    assert (f"ho{n}_3", "address") in history(record_id)


# Defect found by this attack, mended since (failing before). Before: Holder order across a past
# serial (R13, R9): rule (4) makes a consent event wait only for pending latest information naming
# its record's *current* serial. m3 (seq 3) names s0, the serial the record was linked to before a
# reflection (seq 5) moved it to s1, so the revocation r6 (seq 6), stored before m3, is applied
# first and m3 is then skipped consent_revoked: the holder's address change J-LIS made before the
# revocation is lost (the record keeps the old address, no history row). One applier, default
# batch size.
def test_a_revocation_does_not_overtake_the_holders_earlier_event_naming_a_past_serial(transactional_db: None):
    record_id, expected = _late_move_then_revocation(61, order="late")
    events_apply_pending()
    _late_move_expected(61, record_id, expected)


def test_control_the_late_move_stored_before_the_revocation_is_applied_first(transactional_db: None):
    record_id, expected = _late_move_then_revocation(62, order="jlis")
    events_apply_pending()
    _late_move_expected(62, record_id, expected)


def _late_move_then_next(n: int) -> tuple[int, dict[str, tuple[str, str]]]:
    """After c5, J-LIS's next latest information (x6, seq 6, naming s1, a new address) is
    stored, then m3 (seq 3, naming the past serial s0) reaches us late."""
    record_id, s0, s1, _, start, c5 = _relinked_by_a_reflection(n)
    x6 = _latest(f"ho{n}_6", 6, s1, s1, ADDRESSES[2])
    m3 = _latest(f"ho{n}_3", 3, s0, s1, ADDRESSES[1])
    events_copy([x6, m3])
    expected, _ = model_runs(start, [c5], [_model_event(x6), _model_event(m3)])
    return record_id, expected


def _late_move_next_expected(n: int, record_id: int, expected: dict[str, tuple[str, str]]) -> None:
    assert expected[f"ho{n}_3"] == ("applied", "")  # the model: holder sequence, m3 then x6
    assert expected[f"ho{n}_6"] == ("applied", "")
    assert statuses() == _status_of(expected)
    assert history(record_id) >= {(f"ho{n}_3", "address"), (f"ho{n}_6", "address")}
    assert DriverRecord.objects.get(pk=record_id).address == ADDRESSES[2]


# Defect found by this attack, mended since (failing before). Before: Holder order across a past
# serial (R13): rule (3) makes latest information wait only for a pending event before it naming
# *its own* serial. x6 (seq 6, naming s1) does not wait for m3 (seq 3, pending in the next batch)
# which names s0, the record's serial before a reflection relinked it; x6 is applied first and m3
# is skipped stale: its change is missing from the history and the audit trail. One applier; m3 in
# another batch than x6 (any batch boundary, batch_size=1 here; another applier holding m3 does
# the same).
def test_the_holders_next_event_does_not_overtake_an_earlier_one_naming_a_past_serial(transactional_db: None):
    record_id, expected = _late_move_then_next(63)
    events_apply_pending(batch_size=1)
    _late_move_next_expected(63, record_id, expected)


def test_control_one_batch_applies_the_event_naming_a_past_serial_in_holder_sequence(transactional_db: None):
    record_id, expected = _late_move_then_next(64)
    events_apply_pending()
    _late_move_next_expected(64, record_id, expected)


# --- A backlog delivered newest first: every event waits for one in a later batch ---------------

BACKLOG_HOLDERS, BACKLOG_DEPTH, BACKLOG_BATCH = 4, 30, 10


def _backlog(n: int, *, newest_first: bool) -> tuple[list[int], list[dict[str, Any]], Any]:
    """Four holders, thirty latest-information events each (a same-serial run, each a new
    address), stored in the holder's order or newest first (J-LIS redelivering a backlog
    backwards): with batches of ten, each holder's events span every batch of the run."""
    holders = [_holder(n + k) for k in range(BACKLOG_HOLDERS)]
    ids = records_for_generated(holders)
    start = start_state(ids)
    seqs = range(BACKLOG_DEPTH, 0, -1) if newest_first else range(1, BACKLOG_DEPTH + 1)
    events = [
        _latest(f"bl{h['holder']}_{seq}", seq, h["serial"], h["serial"], ADDRESSES[seq % len(ADDRESSES)])
        for seq in seqs
        for h in holders
    ]
    events_copy(events)
    return ids, events, start


def test_a_backlog_delivered_newest_first_is_applied_whole_in_holder_sequence(transactional_db: None):
    """Holds. Every event waits for the holder's lower sequence pending in a later batch; the
    retry rounds go on until each is applied: what the model gives (all applied, the record on
    the last address) and what the same backlog in the holder's order gives."""
    ids, events, start = _backlog(71, newest_first=True)
    reference = reference_fold(events, start=start)
    assert len(reference.applied) == BACKLOG_HOLDERS * BACKLOG_DEPTH
    result = events_apply_pending(batch_size=BACKLOG_BATCH)
    assert (result.applied, result.skipped, result.waiting, result.held) == (len(events), 0, 0, 0)
    got = outcome()
    assert {k: v for k, v in got.records.items() if k in ids} == reference.records
    assert set(got.history) == reference.history
    assert got.applied == reference.applied


def _batches(n: int, *, newest_first: bool) -> int:
    _backlog(n, newest_first=newest_first)
    result = events_apply_pending(batch_size=BACKLOG_BATCH)
    assert result.applied == BACKLOG_HOLDERS * BACKLOG_DEPTH
    return result.batches


# Defect found by this attack, mended since (failing before): the retry rounds took what was left
# in the order stored, and every batch but the last waited for the holder's lower sequence pending
# in a later one, so a round applied only its last batch: about (N/b)^2/2 batches instead of N/b
# (120 events in batches of 10: 78 batches instead of 12). Delay and load, not a loss.
def test_a_backlog_delivered_newest_first_costs_no_more_than_a_few_passes(transactional_db: None):
    in_order = _batches(75, newest_first=False)
    assert in_order == BACKLOG_HOLDERS * BACKLOG_DEPTH // BACKLOG_BATCH
    newest_first = _batches(80, newest_first=True)
    assert newest_first <= 3 * in_order


# --- The cost of rule (5) when many consent events are pending ---------------------------------


def _segment_queries(n: int, pending_consent_events: int) -> int:
    """Queries of the one latest-information batch of a run: one holder's event, with this many
    other holders' reflections waiting for the relay's answer (unknown_consent, within the
    grace: a relay outage leaves them so)."""
    for k in range(pending_consent_events):
        _reflected(f"pc{n}_{k}", 1, f"69{n:04d}{k:03d}", f"jc_ho_relay_{n}_{k}")
    holder = _holder(n)
    records_for_generated([holder])
    events_copy([_latest(f"pc{n}_x", 1, holder["serial"], holder["serial"], ADDRESSES[1])])
    counts: list[int] = []
    segment = applier_batch._latest_info_segment

    def counted(*args: Any) -> None:
        with CaptureQueriesContext(connection) as queries:
            segment(*args)
        counts.append(len(queries))

    with _patched(applier_batch, "_latest_info_segment", counted):
        result = events_apply_pending()
    assert result.applied == 1
    assert result.waiting == pending_consent_events
    return counts[0]


# Defect found by this attack, mended since (failing before). Before: Rule (5)'s cost grows with
# the pending consent events: every latest-information batch reads every pending consent event
# (whole rows, payload included) and maps each to its record with a query of its own
# (_consent_events_first -> consent_event_record_id), whosever it is. 40 reflections waiting for
# the relay add about 40 queries to each batch; a relay outage with thousands waiting adds
# thousands to every batch of the run and of each retry round.
def test_a_latest_information_batch_costs_the_same_whatever_consent_events_wait(transactional_db: None):
    none_waiting = _segment_queries(91, 0)
    many_waiting = _segment_queries(92, 40)
    assert many_waiting <= none_waiting + 2


# --- Two appliers: the past serial, and J-LIS's repeat under another id ----------------------


# Defect found by this attack, mended since (failing before). Before: Holder order across a past
# serial (R13), two appliers: A holds m3 (seq 3, naming s0, the record's serial before a
# reflection relinked it to s1); B takes x6 (seq 6, naming s1) and applies it, since no pending
# event before it names s1; A's m3 is then skipped stale, its change missing from the history and
# the audit trail. The one-applier control (one batch) applies m3 then x6, as the model does.
def test_an_applier_holding_the_holders_event_naming_a_past_serial_is_not_overtaken(transactional_db: None):
    n = 65
    record_id, s0, s1, _, start, c5 = _relinked_by_a_reflection(n)
    m3 = _latest(f"ho{n}_3", 3, s0, s1, ADDRESSES[1])
    x6 = _latest(f"ho{n}_6", 6, s1, s1, ADDRESSES[2])
    events_copy([m3, x6])  # A claims m3 (the lowest id), B passes it by
    expected, _ = model_runs(start, [c5], [_model_event(m3), _model_event(x6)])
    errors: list[BaseException] = []
    a_holds_the_first_while_b_runs(errors, lambda: _run("B", errors, batch_size=1))
    _late_move_next_expected(n, record_id, expected)


def test_an_applier_holding_the_first_of_a_repeat_under_another_id_keeps_it_first(transactional_db: None):
    """Holds. J-LIS repeats the holder's event e2 (seq 2) under another id (e2b, stored after
    it). A holds e2; B takes e2b and the next event e3 (seq 3): e2b waits behind e2 (same
    sequence, stored first: rule (3)'s order), e3 behind both. Then A applies e2, and the
    follow-up skips e2b stale and applies e3: what the model and one applier give."""
    n = 66
    holder = _holder(n)
    s0 = holder["serial"]
    [record_id] = records_for_generated([holder])
    start = start_state([record_id])
    e2 = _latest(f"rp{n}_2", 2, s0, s0, ADDRESSES[1])
    e2b = dict(e2, event_id=f"rp{n}_2b")
    e3 = _latest(f"rp{n}_3", 3, s0, s0, ADDRESSES[2])
    events = [e2, e2b, e3]
    events_copy(events)
    reference = reference_fold(events, start=start)
    assert reference.applied == {f"rp{n}_2", f"rp{n}_3"}
    assert reference.not_applied == {f"rp{n}_2b": "stale"}
    errors: list[BaseException] = []
    a_holds_the_first_while_b_runs(errors, lambda: _run("B", errors, batch_size=10))
    assert statuses() == {
        f"rp{n}_2": (EventStatus.APPLIED, ""),
        f"rp{n}_2b": (EventStatus.SKIPPED, "stale"),
        f"rp{n}_3": (EventStatus.APPLIED, ""),
    }
    assert history(record_id) == reference.history
    assert DriverRecord.objects.get(pk=record_id).address == ADDRESSES[2]
