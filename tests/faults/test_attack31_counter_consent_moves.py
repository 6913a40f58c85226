"""A consent registered at the counter with a new card, and the holder moving at J-LIS before its
reflection (DOMAIN.md R10, R13; docs/rules.md, "The event path's other choices": the counter
consent's serial waits for its reflection; docs/reliability.md rules (2)-(5)).

J-LIS's world in every test here: the holder, on s0 under an active consent K0, moves (e1: s0 ->
s1, seq 1), registers K1 at the counter with the new card s1 (J-LIS's id for it stored), moves
again before J-LIS reflects K1 (e2: s1 -> s2, seq 2, a new address), and J-LIS reflects K1 naming
s2, the holder's serial at J-LIS then (c3, seq 3). Expected values come from the independent
model (tests/model/holders.py, tests/model/grace.py), never from the applier.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from driver_records.models import DriverRecord
from jlis_gateway.inbox import events_pending_count
from jlis_gateway.models import EventStatus, JlisEvent
from tests.model.grace import GraceModel

from .test_appliers_interleavings import _holder, _latest, statuses
from .test_appliers_unknown_serial_attack import _reflected
from .world import (
    ADDRESSES,
    GraceRun,
    _model_event,
    counter_consent_pending,
    events_copy,
    model_holders,
    records_for_generated,
)
from .world import start_state as start_state_of

pytestmark = [pytest.mark.faults, pytest.mark.postgres]

GRACE = timedelta(hours=1)


class Holder(GraceRun):
    """The holder's world (above) and the model following the same events as they are stored."""

    def __init__(self, n: int) -> None:
        self.n = n
        holder = _holder(n)
        self.s0, self.s1, self.s2 = holder["serial"], f"61{n:04d}01", f"61{n:04d}02"
        [self.record_id] = records_for_generated([holder])
        self.k1 = f"jc_a31_moves_{n}"
        reference = f"G-a31-{n}"
        counter_consent_pending(record_id=self.record_id, reference=reference, serial=self.s1, jlis_consent_id=self.k1)
        plain = model_holders(start_state_of([self.record_id]))
        self.model = GraceModel(GRACE)
        self.model.holders = plain.holders

    def e1(self) -> None:
        self._latest(f"mv{self.n}_1", 1, self.s0, self.s1, ADDRESSES[1])

    def e2(self) -> None:
        self._latest(f"mv{self.n}_2", 2, self.s1, self.s2, ADDRESSES[2])

    def c3(self) -> None:
        _, event = _reflected(f"mv{self.n}_3", 3, self.s2, self.k1)
        self.model.stored(event)
        self.model.received(event.id, JlisEvent.objects.get(event_id=event.id).received_at)

    def _latest(self, event_id: str, seq: int, serial: str, new_serial: str, address: str) -> None:
        raw = _latest(event_id, seq, serial, new_serial, address)
        events_copy([raw])
        self.model.stored(_model_event(raw))
        self.model.received(event_id, JlisEvent.objects.get(event_id=event_id).received_at)

    def record(self) -> tuple[str, str]:
        record = DriverRecord.objects.get(pk=self.record_id)
        return record.cert_serial, record.address

    def model_record(self) -> tuple[str, str]:
        holder = self.model.holders[self.record_id]
        return holder.serial, holder.address


@pytest.fixture
def grace(settings: Any) -> None:
    settings.JLIS_UNKNOWN_SERIAL_GRACE_SECONDS = int(GRACE.total_seconds())


@pytest.mark.parametrize("batch_size", [1, 2, 1000])
def test_the_whole_story_in_a_backlog_delivered_newest_first_follows_the_model(
    transactional_db: None, grace: None, batch_size: int
):
    """Holds: c3, e2, e1 stored newest first, past the grace. c3 waits for e1 (rule (4)), e2 for
    s1, which e1 and K1 announce; in the holder's order: e1, e2, c3."""
    h = Holder(3120 + batch_size % 7)
    h.c3()
    h.e2()
    h.e1()
    h.backlog()
    h.apply(batch_size=batch_size)
    assert all(status == (EventStatus.APPLIED, "") for status in h.expected().values())
    assert statuses() == h.expected()
    assert h.record() == h.model_record() == (h.s2, ADDRESSES[2])


def test_the_reflection_first_then_e2_past_the_grace_then_e1_follows_the_model(transactional_db: None, grace: None):
    """Holds (the grace's choice, which the model with the grace shares): c3 is applied before e1
    reaches us (nothing of the holder's is pending before it); e2, past the grace, names s1,
    which nothing links or announces any more (K1 reflected): skipped unknown_serial. e1, later,
    applies its data; the record keeps s2."""
    h = Holder(3130)
    h.c3()
    h.e2()
    h.backlog()
    h.apply()
    h.e1()
    h.apply()
    assert statuses() == h.expected()
    assert h.record() == h.model_record()


# Defect found by this attack, mended (failing before): R13/R10, the holder's data lost. c3 reaches us and is
# applied first (the record follows s2, J-LIS's serial at the reflection, seq 3); e2 (seq 2, naming
# s1) waits, within the grace: nothing links s1 yet. Then e1 (seq 1, s0 -> s1) arrives and is
# applied: its data, but not its link (the link only moves forward, and it is at seq 3). The
# record was never linked to s1, so e2 still names a serial "no record is or was linked to": it
# waits for ever, then past the grace is skipped unknown_serial, and the holder's newer address
# (seq 2) is lost: the record keeps e1's older one. The model: e1 names s1 as the holder's (J-LIS
# moved them to it; K1 was signed with it, R13), so e2 is the holder's and newer than the data
# applied: applied, the record at e2's address. An event naming a serial an applied move named
# is now placed on the record of the serial that move left (applier/state.py).
def test_the_holders_event_naming_the_serial_an_older_move_issued_is_not_lost_behind_a_later_reflection(
    transactional_db: None, grace: None
):
    h = Holder(3140)
    h.c3()
    h.e2()
    h.apply()
    h.e1()
    h.apply()
    assert h.expected()[f"mv{h.n}_2"] == (EventStatus.APPLIED, "")  # the model
    later = timezone.now() + 2 * GRACE  # runs after the grace: nothing more is on its way
    h.apply(at=later)
    assert statuses() == h.expected()
    assert h.record() == h.model_record() == (h.s2, ADDRESSES[2])
    assert events_pending_count() == 0
