"""Several appliers at once, in fixed interleavings the random streams of
test_appliers_concurrent.py do not reach: one applier holds a holder's earlier event while
another claims that holder's later events.

Each test pauses applier A after it has claimed its batch (before it locks any record), lets
applier B run to its end on a session of its own, then lets A go, and finally runs the follow-up
the task would queue. The expected outcome comes from the rules (each holder's events taken in
holder sequence, DOMAIN.md R10/R13 and "Order of events" in docs/rules.md), from the model
(tests/model/holders.py through tests/faults/world.py's reference_fold) and from one applier
taking the same events alone: which applier claims what must not change what is applied.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from django.db import connections
from django.utils import timezone

from applier import batch as applier_batch
from applier.batch import events_apply_pending
from consents.models import Channel
from driver_records.models import DriverRecord, RecordChange
from jlis_gateway.inbox import events_pending_count
from jlis_gateway.models import EventKind, EventStatus, JlisEvent

from .test_appliers_concurrent import _patched
from .world import (
    ADDRESSES,
    NOT_AFTER,
    counter_consent_pending,
    events_copy,
    record_held,
    records_for_generated,
    reference_fold,
    start_state,
)

pytestmark = [pytest.mark.faults, pytest.mark.postgres]


def _holder(n: int) -> dict[str, Any]:
    return {
        "holder": 700_000 + n,
        "serial": f"61{n:04d}00",
        "name": "山田　太郎",
        "address": ADDRESSES[0],
        "birth_date": "1970-01-01",
        "items": ["address", "name", "birth_date"],
        "consent_id": f"jc_il_{n}",
        "consent_date": timezone.localdate().isoformat(),
    }


def _latest(event_id: str, seq: int, serial: str, new_serial: str, address: str) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "holder_seq": seq,
        "serial": serial,
        "occurred_at": timezone.now() - timedelta(minutes=1),
        "payload": {"old_serial": serial, "new_serial": new_serial, "not_after": NOT_AFTER, "address": address},
    }


def _run(name: str, errors: list[BaseException], **options: Any) -> threading.Thread:
    def target() -> None:
        try:
            events_apply_pending(**options)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=target, name=name)
    thread.start()
    return thread


@contextmanager
def a_paused_after_its_claim() -> Iterator[tuple[threading.Event, threading.Event]]:
    """Applier "A" stops once, after claiming its batch and before locking its records, until
    told to go on (the window any run has between its claim and its record lock)."""
    claimed, go = threading.Event(), threading.Event()
    lock_records = applier_batch.lock_records_by_serial

    def lock_after_pause(serials: Any) -> Any:
        if threading.current_thread().name == "A" and not claimed.is_set():
            claimed.set()
            assert go.wait(60)
        return lock_records(serials)

    with _patched(applier_batch, "lock_records_by_serial", lock_after_pause):
        yield claimed, go


def a_holds_the_first_while_b_runs(errors: list[BaseException], b: Callable[[], threading.Thread]) -> None:
    with a_paused_after_its_claim() as (claimed, go):
        a = _run("A", errors, batch_size=1)  # A claims the holder's first event
        assert claimed.wait(60)
        b().join()  # B passes A's event by (SKIP LOCKED) and takes the rest
        go.set()
        a.join()
    assert not errors, errors
    events_apply_pending()  # the follow-up a run queues while events it did not take are pending


def received_before_the_grace(grace_seconds: int) -> None:
    JlisEvent.objects.update(received_at=timezone.now() - timedelta(seconds=2 * grace_seconds))


def statuses() -> dict[str, tuple[str, str]]:
    return {e: (s, r) for e, s, r in JlisEvent.objects.values_list("event_id", "status", "reason")}


def test_a_backlog_older_than_the_grace_loses_no_event_whose_predecessor_another_applier_holds(
    transactional_db: None, settings: Any
):
    """R10/R13: e2 names the serial e1 issues. Applied in holder sequence (one applier, or the
    model), both apply and the record ends on e2's serial and address. The grace period
    (JLIS_UNKNOWN_SERIAL_GRACE_SECONDS) is for a serial nobody announces: here e1, pending,
    announces it; only that another applier holds e1 at the moment differs. Both events were
    received before the grace (a backlog after the appliers were down for longer than it).

    Skipping e2 as unknown_serial loses the holder's move and, worse, leaves the record on the
    serial e1 issued: every later event of the holder names a serial we never link and is
    skipped too (the holder's feed stops for good)."""
    holder = _holder(1)
    s0, s1, s2 = holder["serial"], "61000101", "61000102"
    e1 = _latest("bk_1", 1, s0, s1, ADDRESSES[1])
    e2 = _latest("bk_2", 2, s1, s2, ADDRESSES[2])
    [record_id] = records_for_generated([holder])
    start = start_state([record_id])
    events_copy([e1, e2])
    received_before_the_grace(settings.JLIS_UNKNOWN_SERIAL_GRACE_SECONDS)
    reference = reference_fold([e1, e2], start=start)
    assert reference.applied == {"bk_1", "bk_2"}  # the model: both, in holder sequence

    errors: list[BaseException] = []
    a_holds_the_first_while_b_runs(errors, lambda: _run("B", errors, batch_size=1))

    assert statuses() == {"bk_1": (EventStatus.APPLIED, ""), "bk_2": (EventStatus.APPLIED, "")}
    record = DriverRecord.objects.get(pk=record_id)
    assert (record.cert_serial, record.address) == (s2, ADDRESSES[2])


def test_control_one_applier_applies_the_same_backlog_in_holder_sequence(transactional_db: None, settings: Any):
    """The same backlog taken by one applier: both applied (what the test above expects)."""
    holder = _holder(2)
    s0, s1, s2 = holder["serial"], "61000201", "61000202"
    [record_id] = records_for_generated([holder])
    events_copy([_latest("bk_1", 1, s0, s1, ADDRESSES[1]), _latest("bk_2", 2, s1, s2, ADDRESSES[2])])
    received_before_the_grace(settings.JLIS_UNKNOWN_SERIAL_GRACE_SECONDS)
    events_apply_pending(batch_size=1)
    assert statuses() == {"bk_1": (EventStatus.APPLIED, ""), "bk_2": (EventStatus.APPLIED, "")}
    record = DriverRecord.objects.get(pk=record_id)
    assert (record.cert_serial, record.address) == (s2, ADDRESSES[2])


def _reflection_scenario(n: int) -> tuple[int, str, str]:
    """A holder on s0 moves (e1: s0 -> s1, seq 1), registers again at the counter with the new
    card (a pending consent signed with s1), J-LIS reflects it (c2, seq 2, naming s1, the
    holder's serial at J-LIS), then the holder moves again (e3: s1 -> s2, seq 3). Stored in
    J-LIS's order."""
    holder = _holder(n)
    s0, s1, s2 = holder["serial"], f"61{n:04d}01", f"61{n:04d}02"
    [record_id] = records_for_generated([holder])
    today = timezone.localdate()
    counter_consent_pending(record_id=record_id, reference=f"G-new-{n}", serial=s1, jlis_consent_id=f"jc_il_new_{n}")
    events_copy([_latest(f"rf{n}_1", 1, s0, s1, ADDRESSES[1])])
    JlisEvent.objects.create(
        event_id=f"rf{n}_2",
        kind=EventKind.CONSENT_REFLECTED,
        holder_seq=2,
        serial=s1,
        jlis_consent_id=f"jc_il_new_{n}",
        occurred_at=timezone.now() - timedelta(minutes=1),
        payload={"consent_id": f"jc_il_new_{n}", "consent_date": today.isoformat()},
        received_at=timezone.now(),
    )
    events_copy([_latest(f"rf{n}_3", 3, s1, s2, ADDRESSES[2])])
    return record_id, s2, ADDRESSES[2]


def _reflection_expected(n: int, record_id: int, s2: str, address: str) -> None:
    """Holder sequence 1, 2, 3: e1 applies (its address and serial are in the history), the
    reflection activates the new consent, e3 applies on top. Nothing is stale: no event is
    older than data applied before it in J-LIS's order."""
    assert statuses() == {
        f"rf{n}_1": (EventStatus.APPLIED, ""),
        f"rf{n}_2": (EventStatus.APPLIED, ""),
        f"rf{n}_3": (EventStatus.APPLIED, ""),
    }
    history = set(RecordChange.objects.filter(record_id=record_id).values_list("jlis_event_id", "field"))
    assert (f"rf{n}_1", "address") in history
    record = DriverRecord.objects.get(pk=record_id)
    assert (record.cert_serial, record.address, record.jlis_seq) == (s2, address, 3)


def test_a_reflection_does_not_let_a_holders_later_event_overtake_an_earlier_one_another_applier_holds(
    transactional_db: None,
):
    """Rule: each holder's events in holder sequence (docs/rules.md, "Order of events"; R13 the
    link only forward). A holds e1 (naming s0); B takes the reflection c2, which links the record
    to s1, and e3, which names s1: rule (3) of docs/reliability.md looks for an earlier pending
    event naming s1, and e1 names s0, so B applies e3 before e1. e1 then finds data of sequence
    3 applied and is skipped as stale: a move the holder made is missing from the history and
    the audit trail, and one applier (the control below) applies all three."""
    record_id, s2, address = _reflection_scenario(3)
    errors: list[BaseException] = []
    a_holds_the_first_while_b_runs(errors, lambda: _run("B", errors, batch_size=5))
    _reflection_expected(3, record_id, s2, address)


def test_control_one_applier_applies_the_reflection_scenario_in_holder_sequence(transactional_db: None):
    record_id, s2, address = _reflection_scenario(4)
    events_apply_pending(batch_size=1)
    _reflection_expected(4, record_id, s2, address)


def _revocation(event_id: str, seq: int, serial: str, consent_id: str) -> JlisEvent:
    return JlisEvent.objects.create(
        event_id=event_id,
        kind=EventKind.CONSENT_REVOKED,
        holder_seq=seq,
        serial=serial,
        jlis_consent_id=consent_id,
        occurred_at=timezone.now() - timedelta(minutes=1),
        payload={"consent_id": consent_id, "channel": Channel.MYNAPORTAL},
        received_at=timezone.now(),
    )


def test_two_appliers_with_consent_events_between_latest_information_do_not_deadlock(transactional_db: None):
    """docs/reliability.md, "Several appliers at once", (1): records are locked in id order in
    one statement, "so two runs never lock in opposite orders". A batch that mixes latest
    information and consent events locks more than once: the segment's records, then each
    consent event's record (consents/services/lifecycle.py::_locked), in the order stored.
    A's batch: latest information of holder 2, then holder 1's revocation through Mynaportal;
    B's: latest information of holder 1, then holder 2's revocation. Each holds one record and
    waits for the other's: PostgreSQL ends one batch with a deadlock error (the task retries it
    with backoff, its whole batch rolled back). Expected: both runs finish, as one would."""
    h1, h2 = _holder(5), _holder(6)
    records_for_generated([h1, h2])
    events_copy([_latest("dl_1", 1, h2["serial"], h2["serial"], ADDRESSES[1])])
    _revocation("dl_2", 1, h1["serial"], h1["consent_id"])
    events_copy([_latest("dl_3", 2, h1["serial"], h1["serial"], ADDRESSES[2])])
    _revocation("dl_4", 2, h2["serial"], h2["consent_id"])

    a_segment_done, b_segment_done = threading.Event(), threading.Event()
    segment, consent_event = applier_batch._latest_info_segment, applier_batch._consent_event

    def segment_then_signal(*args: Any) -> None:
        segment(*args)
        {"A": a_segment_done, "B": b_segment_done}[threading.current_thread().name].set()

    def consent_event_after_b_segment(*args: Any) -> None:
        if threading.current_thread().name == "A":
            b_segment_done.wait(10)  # B holds holder 1's record now (unless it waits for A)
        consent_event(*args)

    errors: list[BaseException] = []
    with (
        _patched(applier_batch, "_latest_info_segment", segment_then_signal),
        _patched(applier_batch, "_consent_event", consent_event_after_b_segment),
    ):
        a = _run("A", errors, batch_size=2)  # claims dl_1, dl_2
        assert a_segment_done.wait(60)  # A holds holder 2's record
        b = _run("B", errors, batch_size=2)  # claims dl_3, dl_4
        b.join()
        a.join()
    assert not errors, errors


def test_a_batch_with_a_serials_events_before_and_after_one_another_applier_holds_keeps_their_order(
    transactional_db: None,
):
    """Holds on the current code; the random streams do not pin it. Three events about one
    serial (the certificate kept: latest information without a move), seq 1, 2, 3. A holds the
    middle one (claimed by id, as a run's second pass claims the events it left waiting); B's
    batch has the first and the last. Rule: holder sequence, so 1, 2, 3 all apply, the record
    ends with the third's address and each address change is in the history once."""
    holder = _holder(7)
    s0 = holder["serial"]
    [record_id] = records_for_generated([holder])
    events = [_latest(f"ba_{seq}", seq, s0, s0, ADDRESSES[seq]) for seq in (1, 2, 3)]
    start = start_state([record_id])
    events_copy(events)
    reference = reference_fold(events, start=start)
    assert reference.applied == {"ba_1", "ba_2", "ba_3"}
    middle = JlisEvent.objects.get(event_id="ba_2").pk

    errors: list[BaseException] = []

    def a_second_pass() -> None:
        try:
            applier_batch._batch(timezone.now(), timedelta(days=1), event_ids=[middle])
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    with a_paused_after_its_claim() as (claimed, go):
        a = threading.Thread(target=a_second_pass, name="A")
        a.start()
        assert claimed.wait(60)
        _run("B", errors, batch_size=5).join()  # B's batch: ba_1 and ba_3
        go.set()
        a.join()
    assert not errors, errors
    events_apply_pending()

    assert statuses() == {f"ba_{seq}": (EventStatus.APPLIED, "") for seq in (1, 2, 3)}
    history = list(RecordChange.objects.filter(record_id=record_id).values_list("jlis_event_id", "field"))
    assert sorted(history) == sorted(reference.history)
    record = DriverRecord.objects.get(pk=record_id)
    assert (record.address, record.jlis_seq) == (ADDRESSES[3], 3)


def test_a_holder_moving_twice_in_one_batch_waits_for_an_earlier_event_another_applier_holds(
    transactional_db: None,
):
    """Holds on the current code. A holds the holder's first event (seq 1, latest information
    that keeps s0); B's batch moves the holder twice (seq 2: s0 -> s1, seq 3: s1 -> s2), the
    second naming the serial the first issues in the same batch. Rule: holder sequence, so all
    three apply and the record ends on s2 with the third's address, each change once in the
    history (the model's reference)."""
    holder = _holder(8)
    s0, s1, s2 = holder["serial"], "61000801", "61000802"
    [record_id] = records_for_generated([holder])
    events = [
        _latest("tw_1", 1, s0, s0, ADDRESSES[1]),
        _latest("tw_2", 2, s0, s1, ADDRESSES[2]),
        _latest("tw_3", 3, s1, s2, ADDRESSES[3]),
    ]
    start = start_state([record_id])
    events_copy(events)
    reference = reference_fold(events, start=start)
    assert reference.applied == {"tw_1", "tw_2", "tw_3"}

    errors: list[BaseException] = []
    a_holds_the_first_while_b_runs(errors, lambda: _run("B", errors, batch_size=5))

    assert statuses() == {f"tw_{seq}": (EventStatus.APPLIED, "") for seq in (1, 2, 3)}
    history = list(RecordChange.objects.filter(record_id=record_id).values_list("jlis_event_id", "field"))
    assert sorted(history) == sorted(reference.history)
    record = DriverRecord.objects.get(pk=record_id)
    assert (record.cert_serial, record.address, record.jlis_seq) == (s2, ADDRESSES[3], 3)


def test_an_applier_applies_the_rest_of_its_batch_while_another_session_holds_one_record(transactional_db: None):
    """Two holders' events in one batch; another session (another applier's batch, a clerk's
    change) holds the first holder's record. The applier applies the second holder's event
    without waiting for that lock (two appliers whose batches shared a holder took turns for
    whole batches: a second applier added nothing), leaves the first one's event pending for a
    follow-up run (the task queues one: more pending than waiting), and that run applies it."""
    first, second = _holder(9), _holder(10)
    ids = records_for_generated([first, second])
    events = [
        _latest("hd_1", 1, first["serial"], first["serial"], ADDRESSES[1]),
        _latest("hd_2", 1, second["serial"], second["serial"], ADDRESSES[2]),
    ]
    events_copy(events)
    reference = reference_fold(events, start=start_state(ids))
    assert reference.applied == {"hd_1", "hd_2"}

    with record_held(ids[0]):
        result = events_apply_pending(batch_size=10)
        assert (result.applied, result.waiting, result.held) == (1, 0, 1)
        assert statuses() == {"hd_1": (EventStatus.PENDING, ""), "hd_2": (EventStatus.APPLIED, "")}
        assert events_pending_count() > result.waiting  # the task's test for queueing a follow-up

    assert events_apply_pending(batch_size=10).applied == 1  # the follow-up
    assert statuses() == {"hd_1": (EventStatus.APPLIED, ""), "hd_2": (EventStatus.APPLIED, "")}
    history = list(RecordChange.objects.filter(record_id__in=ids).values_list("jlis_event_id", "field"))
    assert sorted(history) == sorted(reference.history)
    addresses = dict(DriverRecord.objects.filter(pk__in=ids).values_list("pk", "address"))
    assert addresses == {ids[0]: ADDRESSES[1], ids[1]: ADDRESSES[2]}
