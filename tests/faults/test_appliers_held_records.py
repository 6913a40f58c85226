"""The applier never waits for a record lock (docs/reliability.md, "Several appliers at once keep
each holder's order", rule (1)): a record another session holds (another applier's batch, a
clerk's transaction) is passed by and its holder's events are left pending (`held`) for the
run's retry round or the task's follow-up. These tests put such a held record, or another
applier's commit, at fixed points of a batch and check that what is applied is what the rules
say: the model (tests/model/holders.py, directly or through tests/faults/world.py's
reference_fold) and one applier taking the same events with no record held.

A record is held by a separate connection in a transaction (`SELECT ... FOR UPDATE`), as a
clerk's change holds it; the applier's session has `lock_timeout` set, so a run that waited for
that lock would fail instead of passing a test by waiting.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from django.db import connections
from django.utils import timezone

from applier import batch as applier_batch
from applier.batch import events_apply_pending
from consents.models import Channel, ConsentStatus, MynaportalLink
from driver_records.models import DriverRecord, RecordChange
from jlis_gateway.inbox import events_pending_count
from jlis_gateway.models import EventKind, EventStatus, JlisEvent
from tests.model.holders import Event as ModelEvent

from .test_appliers_concurrent import _patched
from .test_appliers_interleavings import _holder, _latest, _run, received_before_the_grace, statuses
from .world import (
    ADDRESSES,
    _model_event,
    counter_consent_pending,
    events_copy,
    model_holders,
    record_held,
    records_for_generated,
    reference_fold,
    start_state,
)

pytestmark = [pytest.mark.faults, pytest.mark.postgres]


@contextmanager
def record_held_until_the_batch_of(record_id: int, event_pk: int) -> Iterator[None]:
    """A clerk's session holds the record until the run starts the batch of latest information
    holding this event, and lets it go then (between two batches of the run)."""
    released = threading.Event()
    clerk = connections.create_connection("default")
    segment = applier_batch._latest_info_segment

    def release_first(events: Any, *args: Any) -> None:
        if any(e.pk == event_pk for e in events) and not released.is_set():
            released.set()
            clerk.rollback()
        segment(events, *args)

    try:
        clerk.set_autocommit(False)
        with clerk.cursor() as cursor:
            cursor.execute("SELECT 1 FROM driver_records_driverrecord WHERE id = %s FOR UPDATE", [record_id])
        with _patched(applier_batch, "_latest_info_segment", release_first):
            yield
        assert released.is_set()
    finally:
        if not released.is_set():
            clerk.rollback()
        clerk.close()


def _consent_event(event_id: str, kind: str, seq: int, serial: str, payload: dict[str, Any]) -> JlisEvent:
    return JlisEvent.objects.create(
        event_id=event_id,
        kind=kind,
        holder_seq=seq,
        serial=serial,
        jlis_consent_id=payload["consent_id"],
        occurred_at=timezone.now() - timedelta(minutes=1),
        payload=payload,
        received_at=timezone.now(),
    )


def model_outcome(start: Any, stored: list[ModelEvent]) -> tuple[dict[str, tuple[str, str]], Any]:
    """The model's statuses for these events (applied, or skipped and why; "pending" while
    waiting), and its holders, applying everything it can (no grace: an event the model cannot
    place yet waits)."""
    model = model_holders(start)
    for event in stored:
        model.stored(event)
    model.apply(timezone.now())
    return {e.id: (e.status, e.reason) for e in model.events.values()}, model


# --- A reflection that moves the link, held behind a clerk's lock --------------------------------


def _reflection_then_next(n: int) -> tuple[int, str, list[ModelEvent], Any]:
    """The holder on s0 registered again at the counter with a new card (a pending consent signed
    with s1). J-LIS reflects it (c1, seq 1, naming s1: the reflection links the record to s1,
    lifecycle._record_link), then sends the holder's next latest information (e2, seq 2, naming
    s1, a new address). Both were received before the grace (a backlog)."""
    holder = _holder(n)
    s0, s1 = holder["serial"], f"61{n:04d}01"
    [record_id] = records_for_generated([holder])
    today = timezone.localdate()
    counter_consent_pending(record_id=record_id, reference=f"G-new-{n}", serial=s1, jlis_consent_id=f"jc_hr_new_{n}")
    start = start_state([record_id])
    reflection = _consent_event(
        f"hr{n}_1",
        EventKind.CONSENT_REFLECTED,
        1,
        s1,
        {"consent_id": f"jc_hr_new_{n}", "consent_date": today.isoformat()},
    )
    nxt = _latest(f"hr{n}_2", 2, s1, s1, ADDRESSES[2])
    events_copy([nxt])
    received_before_the_grace(24 * 3600 * 365)
    stored = [
        ModelEvent(
            reflection.event_id,
            "consent_reflected",
            1,
            s1,
            reflection.occurred_at,
            {"consent_id": f"jc_hr_new_{n}", "consent_date": today},
        ),
        _model_event(nxt),
    ]
    assert s0 != s1
    return record_id, s1, stored, start


def _reflection_expected(n: int, record_id: int, s1: str, stored: list[ModelEvent], start: Any) -> None:
    expected, _ = model_outcome(start, stored)
    assert expected == {f"hr{n}_1": ("applied", ""), f"hr{n}_2": ("applied", "")}  # the model: both, in order
    assert statuses() == {f"hr{n}_1": (EventStatus.APPLIED, ""), f"hr{n}_2": (EventStatus.APPLIED, "")}
    record = DriverRecord.objects.get(pk=record_id)
    assert (record.cert_serial, record.address, record.jlis_seq) == (s1, ADDRESSES[2], 2)


def test_a_reflection_whose_record_is_held_does_not_lose_the_holders_next_event_past_the_grace(
    transactional_db: None, settings: Any
):
    """R10/R13 and the order of events: the reflection c1 links the record to s1 and e2 names s1.
    One applier alone (the control below) and the model apply both. Here a clerk's transaction
    holds the record during the first run: c1 is left pending (`held`, rightly), and e2, in the
    next batch, finds s1 linked to no record and older than the grace. Before pending reflections
    announced their serial (serials_announced read only latest information), e2 was skipped as
    unknown_serial for good, though the event that links its serial was pending and applied
    seconds later by the follow-up. Only which session held the record differs from the control."""
    settings.JLIS_UNKNOWN_SERIAL_GRACE_SECONDS = 3600
    record_id, s1, stored, start = _reflection_then_next(21)
    with record_held(record_id):
        result = events_apply_pending(batch_size=10)
        assert events_pending_count() > result.waiting  # the task queues a follow-up
    events_apply_pending(batch_size=10)  # the follow-up, once the clerk is done
    _reflection_expected(21, record_id, s1, stored, start)


def test_control_one_applier_applies_the_reflection_and_the_next_event_past_the_grace(
    transactional_db: None, settings: Any
):
    settings.JLIS_UNKNOWN_SERIAL_GRACE_SECONDS = 3600
    record_id, s1, stored, start = _reflection_then_next(22)
    events_apply_pending(batch_size=10)
    _reflection_expected(22, record_id, s1, stored, start)


# --- Another applier commits a move between this batch's record lock and its announcement read ---


def test_an_applier_whose_move_commits_after_anothers_record_lock_does_not_make_it_skip_the_next_event(
    transactional_db: None, settings: Any
):
    """R10/R13, a backlog older than the grace. B holds e1 (s0 -> s1); A holds e2 (naming s1).
    A locks its records while B has not committed (s1 is linked to nothing yet, committed), then
    B commits; A then asks whether a pending event announces s1. Before the link was read again
    after the announcements, neither read saw the move and e2 was skipped unknown_serial (the
    holder's feed stopped for good). What the model and one applier give: both applied, the
    record on s1 with e2's address."""
    settings.JLIS_UNKNOWN_SERIAL_GRACE_SECONDS = 3600
    holder = _holder(23)
    s0, s1 = holder["serial"], "61002301"
    [record_id] = records_for_generated([holder])
    events = [_latest("mc_1", 1, s0, s1, ADDRESSES[1]), _latest("mc_2", 2, s1, s1, ADDRESSES[2])]
    start = start_state([record_id])
    events_copy(events)
    received_before_the_grace(settings.JLIS_UNKNOWN_SERIAL_GRACE_SECONDS)
    reference = reference_fold(events, start=start)
    assert reference.applied == {"mc_1", "mc_2"}

    b_written, b_go = threading.Event(), threading.Event()
    threads: dict[str, threading.Thread] = {}
    segment_write, lock_records = applier_batch.segment_write, applier_batch.lock_records_by_serial

    def b_pauses_before_its_commit(*args: Any) -> None:
        segment_write(*args)
        if threading.current_thread().name == "B" and not b_written.is_set():
            b_written.set()
            assert b_go.wait(60)

    def a_lets_b_commit_after_its_lock(serials: Any) -> Any:
        locked = lock_records(serials)
        if threading.current_thread().name == "A" and not b_go.is_set():
            b_go.set()
            threads["B"].join(60)  # B's move is committed now
        return locked

    errors: list[BaseException] = []
    with (
        _patched(applier_batch, "segment_write", b_pauses_before_its_commit),
        _patched(applier_batch, "lock_records_by_serial", a_lets_b_commit_after_its_lock),
    ):
        threads["B"] = _run("B", errors, batch_size=1)  # claims mc_1
        assert b_written.wait(60)  # B has moved the record to s1, not committed
        a = _run("A", errors, batch_size=1)  # passes mc_1 by, claims mc_2
        a.join()
        threads["B"].join()
    assert not errors, errors
    events_apply_pending()  # the follow-up

    assert statuses() == {"mc_1": (EventStatus.APPLIED, ""), "mc_2": (EventStatus.APPLIED, "")}
    record = DriverRecord.objects.get(pk=record_id)
    assert (record.cert_serial, record.address) == (s1, ADDRESSES[2])


# --- A Mynaportal registration that moves the link, held behind a clerk's lock -------------------


def _registration_then_next(n: int, issue_card_for: Any, clerk: Any) -> tuple[int, str]:
    """The holder on s0, with Mynaportal linkage made at the counter on s0 (R4), registers a
    consent through Mynaportal with a new card (r1, seq 1, naming its serial s1, s0 among the
    previous serials): applied, the record follows s1 (R13) and takes the certificate's items
    (R11). J-LIS then sends the holder's next latest information (e2, seq 2, naming s1, a new
    address). Both were received before the grace (a backlog)."""
    holder = _holder(n)
    s0 = holder["serial"]
    [record_id] = records_for_generated([holder])
    record = DriverRecord.objects.get(pk=record_id)
    MynaportalLink.objects.create(record=record, linked_at=timezone.now(), linked_by=clerk, cert_serial=s0)
    card = issue_card_for(record)
    s1 = card.serial
    payload = {
        "consent_id": f"jc_hr_mp_{n}",
        "items": ["address", "name"],
        "consent_date": timezone.localdate().isoformat(),
        "certificate": base64.b64encode(card.certificate_der).decode(),
        "previous_serials": [s0],
    }
    _consent_event(f"hm{n}_1", EventKind.CONSENT_REGISTERED, 1, s1, payload)
    events_copy([_latest(f"hm{n}_2", 2, s1, s1, ADDRESSES[2])])
    received_before_the_grace(24 * 3600 * 365)
    assert s0 != s1
    return record_id, s1


def _registration_expected(n: int, record_id: int, s1: str) -> None:
    """R4/R11/R13 then R10: the registration applies and links s1; the next event applies."""
    assert statuses() == {f"hm{n}_1": (EventStatus.APPLIED, ""), f"hm{n}_2": (EventStatus.APPLIED, "")}
    record = DriverRecord.objects.get(pk=record_id)
    assert (record.cert_serial, record.address, record.jlis_seq) == (s1, ADDRESSES[2], 2)
    assert record.consents.get(status=ConsentStatus.ACTIVE).channel == Channel.MYNAPORTAL


def test_a_registration_whose_record_is_held_does_not_lose_the_holders_next_event_past_the_grace(
    transactional_db: None, settings: Any, issue_card_for: Any, clerk: Any
):
    """As the reflection above: a Mynaportal registration links the record to the serial it
    names, so while it is pending (here held behind a clerk's lock) an event naming that serial
    is not about an unknown serial. Before pending registrations announced their serial, e2 was
    skipped unknown_serial past the grace. The control below: one applier, no clerk."""
    settings.JLIS_UNKNOWN_SERIAL_GRACE_SECONDS = 3600
    record_id, s1 = _registration_then_next(31, issue_card_for, clerk)
    with record_held(record_id):
        result = events_apply_pending(batch_size=10)
        assert (result.applied, result.skipped) == (0, 0)
        assert events_pending_count() > result.waiting  # the task queues a follow-up
    events_apply_pending(batch_size=10)  # the follow-up, once the clerk is done
    _registration_expected(31, record_id, s1)


def test_control_one_applier_applies_the_registration_and_the_next_event_past_the_grace(
    transactional_db: None, settings: Any, issue_card_for: Any, clerk: Any
):
    settings.JLIS_UNKNOWN_SERIAL_GRACE_SECONDS = 3600
    record_id, s1 = _registration_then_next(32, issue_card_for, clerk)
    events_apply_pending(batch_size=10)
    _registration_expected(32, record_id, s1)


# --- A clerk holds the record while a move, the next event and a revocation are pending ----------


def _move_next_revoke_next(n: int) -> tuple[int, str, list[ModelEvent], Any]:
    """e1 moves the holder s0 -> s1 (seq 1), e2 names s1 (seq 2), the holder revokes through
    Mynaportal (r3, seq 3), e4 names s1 (seq 4). Received before the grace."""
    holder = _holder(n)
    s0, s1 = holder["serial"], f"61{n:04d}01"
    [record_id] = records_for_generated([holder])
    start = start_state([record_id])
    e1 = _latest(f"mr{n}_1", 1, s0, s1, ADDRESSES[1])
    e2 = _latest(f"mr{n}_2", 2, s1, s1, ADDRESSES[2])
    e4 = _latest(f"mr{n}_4", 4, s1, s1, ADDRESSES[3])
    events_copy([e1, e2])
    payload = {"consent_id": holder["consent_id"], "channel": Channel.MYNAPORTAL}
    r3 = _consent_event(f"mr{n}_3", EventKind.CONSENT_REVOKED, 3, s1, payload)
    events_copy([e4])
    received_before_the_grace(24 * 3600 * 365)
    stored = [
        _model_event(e1),
        _model_event(e2),
        ModelEvent(r3.event_id, "consent_revoked", 3, s1, r3.occurred_at, dict(payload)),
        _model_event(e4),
    ]
    return record_id, s1, stored, start


def _move_revoke_expected(n: int, record_id: int, s1: str, stored: list[ModelEvent], start: Any) -> None:
    """R9: nothing after the revocation is applied; R10/R13: the move and the next event are."""
    expected, model = model_outcome(start, stored)
    applied = {e for e, (status, _) in expected.items() if status == "applied"}
    assert applied == {f"mr{n}_1", f"mr{n}_2", f"mr{n}_3"}
    got = statuses()
    assert {e for e, (status, _) in got.items() if status == EventStatus.APPLIED} == applied
    assert got[f"mr{n}_4"][0] == EventStatus.SKIPPED
    assert got[f"mr{n}_4"][1] == expected[f"mr{n}_4"][1]
    holder = model.holders[record_id]
    record = DriverRecord.objects.get(pk=record_id)
    assert (record.cert_serial, record.address) == (holder.serial, holder.address) == (s1, ADDRESSES[2])
    history = set(RecordChange.objects.filter(record_id=record_id).values_list("jlis_event_id", "field"))
    assert (f"mr{n}_1", "address") in history and (f"mr{n}_2", "address") in history
    assert not {h for h in history if h[0] == f"mr{n}_4"}


def test_a_clerk_holding_the_record_through_a_move_and_a_revocation_keeps_the_holders_order(
    transactional_db: None, settings: Any
):
    """Holds on the current code. The clerk holds the record through the first run (batches of
    one, past the grace): every event of the holder is left pending (held, or waiting for the
    serial e1 announces), none skipped; the run does not wait for the lock; the task would queue
    a follow-up; once the clerk is done the follow-up applies them in holder sequence: what the
    model and one applier (below) give."""
    settings.JLIS_UNKNOWN_SERIAL_GRACE_SECONDS = 3600
    record_id, s1, stored, start = _move_next_revoke_next(24)
    with record_held(record_id):
        result = events_apply_pending(batch_size=1)
        assert (result.applied, result.skipped) == (0, 0)
        assert result.held >= 1
        assert events_pending_count() == 4 > result.waiting  # the task queues a follow-up
    events_apply_pending(batch_size=1)
    _move_revoke_expected(24, record_id, s1, stored, start)


def test_control_one_applier_applies_the_move_and_the_revocation_in_holder_sequence(
    transactional_db: None, settings: Any
):
    settings.JLIS_UNKNOWN_SERIAL_GRACE_SECONDS = 3600
    record_id, s1, stored, start = _move_next_revoke_next(25)
    events_apply_pending(batch_size=1)
    _move_revoke_expected(25, record_id, s1, stored, start)


def test_a_clerk_releasing_the_record_between_batches_keeps_the_revocation_before_later_events(
    transactional_db: None, settings: Any
):
    """Holds on the current code. R9 with the lock let go mid-run: the clerk holds the record
    while the run takes e1, e2 and the revocation r3 (each its own batch), and lets it go before
    the batch of e4. e4 then finds the record free; e1 to r3 are pending before it. Rule (3) of
    docs/reliability.md orders latest information, rule (4) consent events: e4 must not be
    applied before the revocation (after revocation nothing more is applied)."""
    settings.JLIS_UNKNOWN_SERIAL_GRACE_SECONDS = 3600
    record_id, s1, stored, start = _move_next_revoke_next(26)
    e4 = JlisEvent.objects.get(event_id="mr26_4").pk
    with record_held_until_the_batch_of(record_id, e4):
        events_apply_pending(batch_size=1)
    events_apply_pending(batch_size=1)
    _move_revoke_expected(26, record_id, s1, stored, start)


# --- A clerk holds the record of an R13 event naming the holder's past serial -------------------


def test_an_event_naming_a_past_serial_whose_record_is_held_waits_and_is_then_decided_by_the_holder_sequence(
    transactional_db: None,
):
    """Holds on the current code. R13, the serial-linked-before path (serials_linked_before and
    records_lock_free): the holder moved s0 -> s1 (e1 applied), then J-LIS's repeat of e1 under
    another id arrives late (naming s0) with a later event (e3, seq 3, naming s1). The clerk holds
    the record: both are left pending, none skipped unknown_serial (s0 was linked once), no lock
    waited for. Afterwards: the repeat is stale (the model), e3 applies."""
    holder = _holder(27)
    s0, s1 = holder["serial"], "61002701"
    [record_id] = records_for_generated([holder])
    start = start_state([record_id])
    e1 = _latest("pb_1", 1, s0, s1, ADDRESSES[1])
    events_copy([e1])
    events_apply_pending()
    late = dict(_latest("pb_1r", 1, s0, s1, ADDRESSES[1]))
    e3 = _latest("pb_3", 3, s1, s1, ADDRESSES[3])
    events_copy([late, e3])
    reference = reference_fold([e1, late, e3], start=start)
    assert reference.applied == {"pb_1", "pb_3"} and reference.not_applied == {"pb_1r": "stale"}
    with record_held(record_id):
        result = events_apply_pending(batch_size=10)
        assert (result.applied, result.skipped, result.held) == (0, 0, 2)
    events_apply_pending(batch_size=10)
    assert statuses() == {
        "pb_1": (EventStatus.APPLIED, ""),
        "pb_1r": (EventStatus.SKIPPED, "stale"),
        "pb_3": (EventStatus.APPLIED, ""),
    }
    record = DriverRecord.objects.get(pk=record_id)
    assert (record.cert_serial, record.address, record.jlis_seq) == (s1, ADDRESSES[3], 3)


# --- A revocation held behind a clerk's lock, the lock let go before the next batch ---------------


def _revoke_then_next(n: int) -> tuple[int, list[ModelEvent], Any]:
    """The holder revokes through Mynaportal (r1, seq 1, naming s0); J-LIS then sends latest
    information for the holder (e2, seq 2, naming s0, a new address)."""
    holder = _holder(n)
    s0 = holder["serial"]
    [record_id] = records_for_generated([holder])
    start = start_state([record_id])
    payload = {"consent_id": holder["consent_id"], "channel": Channel.MYNAPORTAL}
    r1 = _consent_event(f"rv{n}_1", EventKind.CONSENT_REVOKED, 1, s0, payload)
    e2 = _latest(f"rv{n}_2", 2, s0, s0, ADDRESSES[2])
    events_copy([e2])
    stored = [ModelEvent(r1.event_id, "consent_revoked", 1, s0, r1.occurred_at, dict(payload)), _model_event(e2)]
    return record_id, stored, start


def _revoke_expected(n: int, record_id: int, stored: list[ModelEvent], start: Any) -> None:
    """R9: after revocation nothing more is applied: e2 is skipped, the address is not changed."""
    expected, _ = model_outcome(start, stored)
    assert expected[f"rv{n}_1"] == ("applied", "") and expected[f"rv{n}_2"][0] == "skipped"
    got = statuses()
    assert got[f"rv{n}_1"] == (EventStatus.APPLIED, "")
    assert got[f"rv{n}_2"] == (EventStatus.SKIPPED, expected[f"rv{n}_2"][1])
    assert DriverRecord.objects.get(pk=record_id).address == ADDRESSES[0]
    assert not RecordChange.objects.filter(record_id=record_id, jlis_event_id=f"rv{n}_2").exists()


def test_a_revocation_held_behind_a_clerks_lock_is_not_overtaken_by_the_holders_next_event(
    transactional_db: None,
):
    """R9 and the holder's order. The clerk's transaction holds the record while the run takes the
    revocation r1 (its own batch: consent events are taken one by one after a batch's latest
    information): r1 is left pending (`held`). The clerk is done before the next batch, e2's: the
    record is free, and nothing pending before e2 names its serial but r1, a consent event.
    Before rule (5) of docs/reliability.md, e2 was applied (the address changed, a history row)
    before the revocation that precedes it in the holder's sequence, and r1 by the retry round
    after it. One applier without the clerk (the control) and the model: r1 applied, e2 skipped,
    the address unchanged."""
    record_id, stored, start = _revoke_then_next(28)
    e2 = JlisEvent.objects.get(event_id="rv28_2").pk
    with record_held_until_the_batch_of(record_id, e2):  # the clerk is done between the two batches
        events_apply_pending(batch_size=1)
    events_apply_pending(batch_size=1)  # the follow-up
    _revoke_expected(28, record_id, stored, start)


def test_control_one_applier_applies_the_revocation_before_the_holders_next_event(transactional_db: None):
    record_id, stored, start = _revoke_then_next(29)
    events_apply_pending(batch_size=1)
    _revoke_expected(29, record_id, stored, start)


def test_a_revocation_and_the_next_event_both_held_through_the_run_keep_the_holders_order(
    transactional_db: None,
):
    """Holds on the current code: the clerk holds the record through the whole run, so r1 and e2
    are both left pending (held), the task would queue a follow-up, and the follow-up applies r1
    and then skips e2 (R9), as the model and the control say."""
    record_id, stored, start = _revoke_then_next(30)
    with record_held(record_id):
        result = events_apply_pending(batch_size=1)
        assert (result.applied, result.skipped, result.held) == (0, 0, 2)
        assert events_pending_count() > result.waiting
    events_apply_pending(batch_size=1)
    _revoke_expected(30, record_id, stored, start)


# --- A clerk's holding-status change holds the record while the holder's events are pending ------


def test_a_holding_status_change_holding_the_record_stops_the_events_applied_after_it(
    transactional_db: None, clerk: Any
):
    """Holds on the current code. R12: leaving the card-only statuses stops the feed at once. The
    clerk's change (record_holding_status_change, in its own transaction on its own session)
    holds the record while the run takes the holder's move and next event: both are left pending
    (held, or waiting for the serial the move announces), nothing waits for the lock. The change
    commits first, so every event is applied after it: the model, started from the record as the
    clerk left it, skips both; the record keeps its serial and address."""
    holder = _holder(31)
    s0, s1 = holder["serial"], "61003101"
    [record_id] = records_for_generated([holder])
    events = [_latest("hs_1", 1, s0, s1, ADDRESSES[1]), _latest("hs_2", 2, s1, s1, ADDRESSES[2])]
    events_copy(events)
    changed, go = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    from driver_records import services as record_services

    audit_log = record_services.audit_log

    def audit_then_hold(*args: Any, **kwargs: Any) -> Any:
        logged = audit_log(*args, **kwargs)
        if threading.current_thread().name == "clerk":
            changed.set()  # inside the clerk's transaction: the record changed, locked, not committed
            assert go.wait(60)
        return logged

    def clerk_changes_the_holding_status() -> None:
        try:
            version = DriverRecord.objects.get(pk=record_id).version
            record_services.record_holding_status_change(
                record_id=record_id,
                expected_version=version,
                holding_status="licence_both",
                reason="プラスチック免許証を再交付",
                actor=clerk,
            )
        except BaseException as exc:
            errors.append(exc)
            changed.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=clerk_changes_the_holding_status, name="clerk")
    with _patched(record_services, "audit_log", audit_then_hold):
        thread.start()
        assert changed.wait(60)
    try:
        assert changed.wait(60)
        assert not errors, errors
        with connections["default"].cursor() as cursor:
            cursor.execute("SET lock_timeout = '5s'")
        result = events_apply_pending(batch_size=1)
        assert (result.applied, result.skipped) == (0, 0) and result.held >= 1
        assert events_pending_count() == 2 > result.waiting  # the task queues a follow-up
    finally:
        go.set()
        thread.join()
        with connections["default"].cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert not errors, errors
    start = start_state([record_id])  # as the clerk left it
    reference = reference_fold(events, start=start)
    assert reference.applied == set()
    events_apply_pending(batch_size=1)  # the follow-up
    got = {e: "waiting" if status == EventStatus.PENDING else reason for e, (status, reason) in statuses().items()}
    assert got == reference.not_applied  # hs_1 not eligible; hs_2 waits for a serial never linked
    record = DriverRecord.objects.get(pk=record_id)
    assert (record.cert_serial, record.address) == (s0, ADDRESSES[0])
