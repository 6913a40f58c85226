"""Several appliers at once: each holder's events are applied in J-LIS's order whichever applier
claims them, so N appliers leave exactly what one leaves and what the rules model says.

The streams interleave many holders' events: serial changes (the next event names the serial the
one before issued), same-serial runs (latest information that keeps the certificate), pairs
stored swapped (the later one first), J-LIS's repeats under another id, serials nobody has, and
holders whose consent was revoked before. Each stream is stored twice under different serials
and event ids ("copies"): one copy applied by one applier, the other by N at once (threads, each
with its own PostgreSQL session, each running the apply task's loop: a run, then another while
the task would queue a follow-up). Both are compared, copy for copy, with each other and with the
reference (tests/faults/world.py: the independent model, tests/model/holders.py).
"""

from __future__ import annotations

import functools
import random
import threading
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import timezone

from applier import batch as applier_batch
from applier import decide as applier_decide
from applier import tasks as applier_tasks
from applier.batch import events_apply_pending
from consents.models import Consent, ConsentStatus
from driver_records.models import RecordChange
from jlis_gateway.models import EventStatus, JlisEvent
from onestop.audit import audit_chain_verify
from onestop.audit_chain import audit_chain_link
from onestop.models import AuditEvent

from .world import (
    ADDRESSES,
    FAMILY,
    GIVEN,
    NOT_AFTER,
    RECORD_STATE,
    events_copy,
    records_for_generated,
    reference_fold,
    start_state,
)

pytestmark = pytest.mark.faults

HOLDERS = 300
EVENTS = 2_400
BATCH = 40  # small batches: many claims, so the appliers' batches interleave a holder's events


def stream_make(seed: int, copy: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A seeded stream (the same for every copy but for its serials, event ids and holder numbers)."""
    rng = random.Random(seed)
    today = timezone.localdate().isoformat()
    people: list[dict[str, Any]] = []
    for i in range(HOLDERS):
        people.append(
            {
                "holder": copy * 100_000 + i + 1,
                "serial": f"9{copy}{seed:03d}{i:05d}{0:05d}",
                "name": f"{rng.choice(FAMILY)}　{rng.choice(GIVEN)}",
                "address": rng.choice(ADDRESSES),
                "birth_date": (date(1950, 1, 1) + timedelta(days=rng.randrange(20000))).isoformat(),
                "items": ["address", "name", "birth_date"] if rng.random() < 0.8 else ["address"],
                "consent_id": f"jc_c{copy}s{seed}_{i}",
                "consent_date": today,
                "seq": 0,
                "serials": 0,
                "index": i,
            }
        )
    occurred_at = timezone.now() - timedelta(minutes=1)
    events: list[dict[str, Any]] = []
    changed: list[bool] = []  # whether the event moved its holder to a new serial
    for n in range(EVENTS):
        person = people[rng.randrange(HOLDERS)]
        if rng.random() < 0.8:
            person["address"] = rng.choice([a for a in ADDRESSES if a != person["address"]])
        else:
            person["name"] = f"{rng.choice(FAMILY)}　{person['name'].split('　')[1]}"
        person["seq"] += 1
        old = person["serial"]
        moves = rng.random() < 0.6  # else latest information that keeps the certificate
        if moves:
            person["serials"] += 1
            person["serial"] = f"9{copy}{seed:03d}{person['index']:05d}{person['serials']:05d}"
        payload = {"old_serial": old, "new_serial": person["serial"], "not_after": NOT_AFTER}
        payload |= {item: person[item] for item in ("address", "name", "birth_date")}
        events.append(
            {
                "event_id": f"c{copy}s{seed}_{n}",
                "holder_seq": person["seq"],
                "serial": old,
                "occurred_at": occurred_at,
                "payload": payload,
                "holder": person["index"],
            }
        )
        changed.append(moves)
    _swap_pairs(rng, events, changed)
    placed = [(float(n), e) for n, e in enumerate(events)]
    for n in rng.sample(range(len(events)), len(events) // 50):  # J-LIS's repeats, later, under another id
        placed.append((rng.uniform(n, len(events)), dict(events[n], event_id=f"{events[n]['event_id']}r")))
    events[:] = [e for _, e in sorted(placed, key=lambda pair: pair[0])]
    for n in range(5):  # serials nobody has: they wait (the grace period is a day)
        events.insert(rng.randrange(len(events)), dict(events[n], event_id=f"c{copy}s{seed}_u{n}", serial=f"7{n}"))
    return people, events


def _swap_pairs(rng: random.Random, events: list[dict[str, Any]], changed: list[bool]) -> None:
    """Store some of a holder's consecutive events the later first, where the earlier issues the
    serial the later names (J-LIS's order is then the chain's; a same-serial pair swapped would
    be information older than the data applied, which the rules skip as stale)."""
    last: dict[int, int] = {}
    swapped: set[int] = set()
    for n, event in enumerate(events):
        before = last.get(event["holder"])
        last[event["holder"]] = n
        if before is None or before in swapped or not changed[before] or rng.random() > 0.08:
            continue
        events[before], events[n] = events[n], events[before]
        changed[before], changed[n] = changed[n], changed[before]
        swapped |= {before, n}


def copy_store(seed: int, copy: int) -> tuple[list[int], Any]:
    """Store a copy's records, consents (some revoked) and events; return the record ids (in
    holder order) and the reference for them."""
    people, events = stream_make(seed, copy)
    ids = records_for_generated(people)
    revoked = [record_id for n, record_id in enumerate(ids) if n % 20 == 7]
    Consent.objects.filter(record_id__in=revoked).update(status=ConsentStatus.REVOKED)
    start = start_state(ids)
    events_copy(events)
    return ids, reference_fold(events, start=start)


def _plain(text: str, copy: int) -> str:
    """A serial or an event id without what tells the copies apart."""
    for prefix in (f"9{copy}", f"c{copy}"):
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


def copy_reference(ids: list[int], reference: Any, copy: int) -> dict[str, Any]:
    position = {record_id: n for n, record_id in enumerate(ids)}
    statuses = {_plain(e, copy): "" for e in reference.applied}
    statuses |= {_plain(e, copy): reason for e, reason in reference.not_applied.items()}
    return {
        "records": {position[k]: _record(v, copy) for k, v in reference.records.items() if k in position},
        "history": Counter((_plain(e, copy), f) for e, f in reference.history),
        "audit": Counter(_plain(e, copy) for e in reference.applied),
        "statuses": statuses,
    }


def _record(row: tuple[Any, ...], copy: int) -> tuple[Any, ...]:
    name, address, birth_date, serial, not_after, jlis_seq = row[1:]
    # The records' first certificates end when each copy was made; J-LIS's, at NOT_AFTER.
    ends = not_after if not_after == datetime.fromisoformat(NOT_AFTER) else "the first certificate's"
    return (name, address, birth_date, _plain(serial, copy), ends, jlis_seq)


def copy_outcome(ids: list[int], copy: int) -> dict[str, Any]:
    """What the appliers left for one copy, in the reference's terms."""
    from driver_records.models import DriverRecord

    position = {record_id: n for n, record_id in enumerate(ids)}
    records = DriverRecord.objects.filter(pk__in=ids).values_list(*RECORD_STATE)
    history = RecordChange.objects.filter(record_id__in=ids, source="jlis").values_list("jlis_event_id", "field")
    audit = AuditEvent.objects.filter(action="record.apply_jlis", subject_id__in=[str(i) for i in ids])
    events = JlisEvent.objects.filter(event_id__startswith=f"c{copy}s").values_list("event_id", "status", "reason")
    return {
        "records": {position[row[0]]: _record(row, copy) for row in records},
        "history": Counter((_plain(e, copy), f) for e, f in history),
        "audit": Counter(_plain(e, copy) for e in audit.values_list("new_values__event_id", flat=True)),
        "statuses": {
            _plain(e, copy): ("waiting" if status == EventStatus.PENDING else reason) for e, status, reason in events
        },
    }


def appliers_run(count: int) -> None:
    """`count` appliers at once, each the apply task's loop on a session of its own: a run, then
    another run while the task would queue a follow-up (applier/tasks.py), until none would."""
    errors: list[BaseException] = []
    again = threading.local()

    def follow_up(idle: int) -> None:
        again.idle = idle

    def loop() -> None:
        try:
            idle = 0
            while True:
                again.idle = None
                applier_tasks.events_apply(idle)
                if again.idle is None:
                    return
                idle = again.idle
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    with (
        _patched(applier_tasks, "_follow_up", follow_up),
        _patched(applier_tasks, "events_apply_pending", functools.partial(events_apply_pending, batch_size=BATCH)),
    ):
        threads = [threading.Thread(target=loop, name=f"applier-{n}") for n in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors, errors


class _patched:
    """Set a module's attribute for a while (threads see it, unlike pytest's fixture scope)."""

    def __init__(self, module: Any, name: str, value: Any) -> None:
        self.module, self.name, self.value = module, name, value

    def __enter__(self) -> None:
        self.saved = getattr(self.module, self.name)
        setattr(self.module, self.name, self.value)

    def __exit__(self, *exc: object) -> None:
        setattr(self.module, self.name, self.saved)


def compare(seed: int, appliers: int) -> None:
    """Copy 0 by one applier, copy 1 by `appliers` at once; each against the reference, and the
    two against each other."""
    ids0, reference0 = copy_store(seed, 0)
    appliers_run(1)
    ids1, reference1 = copy_store(seed, 1)
    appliers_run(appliers)
    one, many = copy_outcome(ids0, 0), copy_outcome(ids1, 1)
    expected = copy_reference(ids1, reference1, 1)
    assert copy_reference(ids0, reference0, 0) == expected  # the copies are the same stream
    assert max(many["history"].values()) == 1  # no change written twice
    assert max(many["audit"].values()) == 1  # no event audited twice
    assert many == one
    assert many == expected
    # PostgreSQL's writers leave the linking to the chainer; SQLite's link each row in the
    # writer's transaction, so there the chainer finds nothing left to link.
    linked = audit_chain_link()
    assert linked > 0 if connection.vendor == "postgresql" else linked == 0
    assert audit_chain_verify() is None


@pytest.mark.parametrize("appliers", [2, 4])
@pytest.mark.parametrize("seed", [11, 12, 13])
def test_n_appliers_leave_what_one_applier_and_the_rules_leave(transactional_db: None, seed: int, appliers: int):
    compare(seed, appliers)


def test_control_the_comparison_catches_an_applier_that_ignores_the_holder_sequence(transactional_db: None):
    """The same comparison with a decision that lets older information overwrite newer (the
    holder sequence check gone): it must fail, else it could not see a wrong order."""
    original = applier_decide.decide_latest_info

    def no_sequence(event: Any, record: Any, consent: Any, today: date) -> Any:
        if record is not None:
            record = type(record)(**{**record.__dict__, "jlis_seq": min(record.jlis_seq, event.holder_seq - 1)})
        return original(event, record, consent, today)

    with _patched(applier_batch, "decide_latest_info", no_sequence), pytest.raises(AssertionError):
        compare(11, 2)


@pytest.mark.postgres  # SQLite has one writer: B waits on A's open claim, then fails 'database is locked'
def test_an_applier_holding_a_holders_earlier_event_is_not_overtaken(transactional_db: None):
    """Applier A has claimed a holder's event and not yet locked the record; applier B claims
    the holder's next event (about the same serial: the certificate was kept). B must not apply
    it first: the rules take a holder's events in J-LIS's order, so both apply, in turn."""
    people, events = stream_make(21, 0)
    person = people[0]
    mine = [e for e in events if e["holder"] == 0]
    first = dict(mine[0], serial=person["serial"], event_id="pair_1", holder_seq=1)
    first["payload"] = dict(first["payload"], new_serial=person["serial"])
    second = dict(first, event_id="pair_2", holder_seq=2)
    second["payload"] = dict(first["payload"], address=ADDRESSES[(ADDRESSES.index(person["address"]) + 1) % 4])
    first["payload"] = dict(first["payload"], address=ADDRESSES[(ADDRESSES.index(person["address"]) + 2) % 4])
    ids = records_for_generated([person])
    start = start_state(ids)
    events_copy([first, second])
    reference = reference_fold([first, second], start=start)
    assert reference.applied == {"pair_1", "pair_2"}

    claimed, go = threading.Event(), threading.Event()
    lock_records = applier_batch.lock_records_by_serial

    def lock_after_pause(serials: Any) -> Any:
        if threading.current_thread().name == "A" and not claimed.is_set():
            claimed.set()  # A holds pair_1 (claimed, pending) and has not locked the record yet
            assert go.wait(60)
        return lock_records(serials)

    errors: list[BaseException] = []

    def applier_a() -> None:
        try:
            events_apply_pending(batch_size=1)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    with _patched(applier_batch, "lock_records_by_serial", lock_after_pause):
        a = threading.Thread(target=applier_a, name="A")
        a.start()
        assert claimed.wait(60)
        b = threading.Thread(target=applier_a, name="B")  # B passes pair_1 by (SKIP LOCKED)
        b.start()
        b.join()
        go.set()
        a.join()
    assert not errors, errors
    events_apply_pending()  # the follow-up a run queues while events it did not take are pending

    outcome = copy_outcome(ids, 0)
    statuses = dict(JlisEvent.objects.values_list("event_id", "status"))
    assert statuses == {"pair_1": EventStatus.APPLIED, "pair_2": EventStatus.APPLIED}
    expected = copy_reference(ids, reference, 0)
    assert outcome["history"] == expected["history"]
    assert ("pair_1", "address") in outcome["history"]
    assert outcome["records"] == expected["records"]
