"""An attack on the holder's order from the rules (DOMAIN.md R10, R13; docs/rules.md, "The event
path's other choices"; docs/reliability.md rules (2)-(5)): serials J-LIS named as the holder's
that the record's link never followed, and events that announce each other's serials.

Expected values come from the independent model with the grace (tests/model/grace.py over
tests/model/holders.py), fed the same events as they are stored, never from the applier.
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

from .test_appliers_interleavings import _holder, statuses
from .test_appliers_unknown_serial_attack import _reflected
from .world import (
    ADDRESSES,
    NOT_AFTER,
    GraceRun,
    _model_event,
    counter_consent_pending,
    events_copy,
    model_holders,
    records_for_generated,
    start_state,
)

pytestmark = [pytest.mark.faults, pytest.mark.postgres]

GRACE = timedelta(hours=1)
RENAMED = "佐藤　花子"


@pytest.fixture
def grace(settings: Any) -> None:
    settings.JLIS_UNKNOWN_SERIAL_GRACE_SECONDS = int(GRACE.total_seconds())


class World(GraceRun):
    """Holder n on s0 under an active consent, and the model following the same stored events."""

    def __init__(self, n: int) -> None:
        self.n = n
        holder = _holder(n)
        self.s0 = holder["serial"]
        [self.record_id] = records_for_generated([holder])

    def serial(self, k: int) -> str:
        return f"61{self.n:04d}{k:02d}"

    def counter_consent(self, jlis_id: str, serial: str) -> None:
        """A consent registered at the counter, taken by J-LIS and not yet reflected."""
        counter_consent_pending(
            record_id=self.record_id, reference=f"G-{jlis_id}", serial=serial, jlis_consent_id=jlis_id
        )

    def start(self) -> None:
        """The model takes the records and consents as they stand now (call before any event)."""
        self.model = GraceModel(GRACE)
        self.model.holders = model_holders(start_state([self.record_id])).holders

    def latest(self, event_id: str, seq: int, serial: str, new_serial: str, **items: str) -> None:
        raw = {
            "event_id": event_id,
            "holder_seq": seq,
            "serial": serial,
            "occurred_at": timezone.now() - timedelta(minutes=1),
            "payload": {"old_serial": serial, "new_serial": new_serial, "not_after": NOT_AFTER, **items},
        }
        events_copy([raw])
        self._received(_model_event(raw))

    def reflected(self, event_id: str, seq: int, serial: str, jlis_id: str) -> None:
        _, event = _reflected(event_id, seq, serial, jlis_id)
        self._received(event)

    def _received(self, event: Any) -> None:
        self.model.stored(event)
        self.model.received(event.id, JlisEvent.objects.get(event_id=event.id).received_at)

    def record(self) -> tuple[str, str, str]:
        record = DriverRecord.objects.get(pk=self.record_id)
        return record.cert_serial, record.address, record.name

    def model_record(self) -> tuple[str, str, str]:
        holder = self.model.holders[self.record_id]
        return holder.serial, holder.address, holder.name


# Defect (mended; failing before): rule (3) did not count a serial an applied move named as the
# holder's where the link did not follow. J-LIS: e1 s0 -> s1 (seq 1), e2 s1 -> s2 (seq 2, a new
# address), c3 reflects K1 naming s2 (seq 3), e4 s2 -> s3 (seq 4, a new name only). c3 reaches us
# first and links s2 at seq 3; e2 waits (nothing links s1 yet); then e1 and e4 arrive. e1 applies
# its data but not its link (the link only moves forward), so s1 is the holder's only because e1
# named it. e4 was applied before e2, which then was skipped stale: the holder's address of seq 2
# lost (the record kept e1's). The model: e2 (placed through s1, which e1 named) before e4.
@pytest.mark.parametrize("batch_size", [1, 2, 1000])
def test_r13_an_event_naming_a_serial_an_applied_move_named_goes_before_the_holders_later_event(
    transactional_db: None, grace: None, batch_size: int
):
    w = World(3200 + batch_size % 7)
    s1, s2, s3 = w.serial(1), w.serial(2), w.serial(3)
    w.counter_consent(f"jc_a32_k1_{w.n}", s1)
    w.start()
    w.reflected(f"a32g_{w.n}_3", 3, s2, f"jc_a32_k1_{w.n}")
    w.apply(batch_size=batch_size)
    w.latest(f"a32g_{w.n}_2", 2, s1, s2, address=ADDRESSES[2])
    w.apply(batch_size=batch_size)
    w.latest(f"a32g_{w.n}_1", 1, w.s0, s1, address=ADDRESSES[1])
    w.latest(f"a32g_{w.n}_4", 4, s2, s3, name=RENAMED)
    w.apply(batch_size=batch_size)
    assert set(w.expected().values()) == {(EventStatus.APPLIED, "")}  # the model: all four, in turn
    assert statuses() == w.expected()
    assert w.record() == w.model_record() == (s3, ADDRESSES[2], RENAMED)


# Defect (mended; failing before): a serial a late reflection named as the holder's, where the
# link (at a later sequence already) did not follow, was no serial of the record's. J-LIS: the
# holder moves s0 -> s1 (seq 1, never reaching us here), J-LIS reflects K1 naming s1 (seq 2), the
# holder moves s1 -> s2 (e3, seq 3, a new address), J-LIS reflects K2 naming s2 (seq 4). c4 reaches
# us first (the record follows s2), then c2 (K1 superseded at once, the link stays), then e3: it
# named s1, which nothing links or announces any more, and past the grace was skipped
# unknown_serial: the holder's address of seq 3 lost. The model: c2 named s1 as the holder's
# serial then (R13), so e3 is the holder's, newer than any data applied: applied.
def test_r13_an_event_naming_the_serial_a_late_reflection_named_is_the_holders(transactional_db: None, grace: None):
    w = World(3210)
    s1, s2 = w.serial(1), w.serial(2)
    k1, k2 = f"jc_a32_r1_{w.n}", f"jc_a32_r2_{w.n}"
    w.counter_consent(k1, s1)
    w.counter_consent(k2, s2)
    w.start()
    w.reflected(f"a32r_{w.n}_4", 4, s2, k2)
    w.apply()
    w.reflected(f"a32r_{w.n}_2", 2, s1, k1)
    w.apply()
    w.latest(f"a32r_{w.n}_3", 3, s1, s2, address=ADDRESSES[2])
    w.apply()
    w.apply(at=timezone.now() + 2 * GRACE)  # past the grace: nothing else is on its way
    assert w.expected()[f"a32r_{w.n}_3"] == (EventStatus.APPLIED, "")  # the model
    assert statuses() == w.expected()
    assert w.record() == w.model_record() == (s2, ADDRESSES[2], w.model_record()[2])
    assert events_pending_count() == 0


# Defect (mended; failing before): two events announcing each other's serial waited for ever.
# Two "latest information" events no record can be placed by: a moves A -> B (seq 5), b moves
# B -> A (seq 6) (a serial number again, under another generation of the CA, or a faulty feed).
# Each was announced by the other, so past the grace neither was skipped: pending for ever,
# counted in the lag. The rule: a serial is on its way only from an event before the one waiting
# in J-LIS's order (the event issuing a serial comes before every event naming it): b may wait
# for a, a for nothing; past the grace a is skipped unknown_serial, and then b.
@pytest.mark.parametrize("delivered", ["a first", "b first"])
def test_r13_two_events_moving_to_each_others_serial_do_not_wait_for_ever(
    transactional_db: None, grace: None, delivered: str
):
    w = World(3220)
    a, b = w.serial(71), w.serial(72)
    w.start()
    events = [(f"a32c_{w.n}_a", 5, a, b), (f"a32c_{w.n}_b", 6, b, a)]
    for event_id, seq, serial, new_serial in events if delivered == "a first" else reversed(events):
        w.latest(event_id, seq, serial, new_serial, address=ADDRESSES[3])
    w.apply()
    assert events_pending_count() == 2  # within the grace both wait, as the model's do
    w.backlog()
    for _ in range(2):
        w.apply(batch_size=1)
    assert w.expected() == {
        f"a32c_{w.n}_a": (EventStatus.SKIPPED, "unknown_serial"),
        f"a32c_{w.n}_b": (EventStatus.SKIPPED, "unknown_serial"),
    }
    assert statuses() == w.expected()
    assert w.record()[:2] == (w.s0, ADDRESSES[0])


# The same pair on a holder's serials: r moves the holder s0 -> A (seq 1), a A -> B (seq 2),
# b B -> A (seq 3), c A -> C (seq 4), delivered newest first into a backlog. In the holder's order
# each applies; nothing waits for ever and nothing is applied out of turn (the record ends on C
# with c's address).
@pytest.mark.parametrize("batch_size", [1, 2, 1000])
def test_r13_a_serial_named_twice_in_a_holders_chain_applies_in_turn(
    transactional_db: None, grace: None, batch_size: int
):
    w = World(3230 + batch_size % 7)
    a, b, c = w.serial(81), w.serial(82), w.serial(83)
    w.start()
    chain = [(1, w.s0, a, 1), (2, a, b, 2), (3, b, a, 3), (4, a, c, 0)]
    for seq, serial, new_serial, address in reversed(chain):
        w.latest(f"a32d_{w.n}_{seq}", seq, serial, new_serial, address=ADDRESSES[address])
    w.backlog()
    w.apply(batch_size=batch_size)
    w.apply(batch_size=batch_size)
    assert set(w.expected().values()) == {(EventStatus.APPLIED, "")}
    assert statuses() == w.expected()
    assert w.record() == w.model_record() == (c, ADDRESSES[0], w.model_record()[2])
