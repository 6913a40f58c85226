"""R15, R16: a suspension erases, and a disclosure shows, every event the applier took as the
holder's, including one naming a serial J-LIS named as the holder's where the record's link did
not follow (R13: an applied move's new serial while the link was at a later sequence already).

What is the holder's comes from the rules (the holder's chain of serials in J-LIS's order), with
the model of the same events (tests/model/grace.py) confirming the applier took it as theirs.
"""

from __future__ import annotations

from typing import Any

import pytest

from driver_records.models import DriverRecord
from jlis_gateway.models import EventStatus, JlisEvent
from safeguards.selectors import holder_events, holder_keys
from safeguards.services import suspension_confirm, suspension_propose

from .test_attack32_rules import ADDRESSES, RENAMED, World, grace, statuses  # noqa: F401 (grace: a fixture)

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.usefixtures("grace")]


def test_r15_r16_an_event_naming_a_serial_the_link_never_followed_is_the_holders(
    transactional_db: None, supervisor: Any, second_supervisor: Any
):
    # J-LIS: e1 s0 -> s1 (seq 1), e2 s1 -> s2 (seq 2, a new address), c3 reflects K1 (signed with
    # s2) naming s2 (seq 3), e4 s2 -> s3 (seq 4, a new name). c3 reaches us first, so the link goes
    # s0 -> s2 and never to s1, which no consent was signed with: s1 is the holder's only because
    # e1 named it, and e2 (about s1) carried the holder's address.
    w = World(3240)
    s1, s2, s3 = w.serial(1), w.serial(2), w.serial(3)
    w.counter_consent(f"jc_a32_hk_{w.n}", s2)
    w.start()
    w.reflected(f"a32k_{w.n}_3", 3, s2, f"jc_a32_hk_{w.n}")
    w.apply()
    w.latest(f"a32k_{w.n}_2", 2, s1, s2, address=ADDRESSES[2])
    w.apply()
    w.latest(f"a32k_{w.n}_1", 1, w.s0, s1, address=ADDRESSES[1])
    w.latest(f"a32k_{w.n}_4", 4, s2, s3, name=RENAMED)
    w.apply()
    assert statuses() == w.expected() and set(w.expected().values()) == {(EventStatus.APPLIED, "")}
    e2 = JlisEvent.objects.get(event_id=f"a32k_{w.n}_2")
    assert e2.payload["address"] == ADDRESSES[2]

    record = DriverRecord.objects.get(pk=w.record_id)
    shown = set(holder_events(holder_keys(record)).values_list("event_id", flat=True))  # the disclosure's events
    assert {f"a32k_{w.n}_{k}" for k in (1, 2, 3, 4)} <= shown

    proposal = suspension_propose(
        record_id=record.pk, actor=supervisor, reason_code="misuse", grounds="evident", note="目的外の利用"
    )
    suspension_confirm(request_id=proposal.pk, actor=second_supervisor)

    e2.refresh_from_db()
    assert "address" not in e2.payload  # erased with the holder's other events (R15)
