"""R15 as a fact of the record: once a second supervisor confirms a suspension, the service is
stopped for the holder, for good. No consent can be registered (terms 7), J-LIS's updates are not
applied (the feed is suspended) and the door keeps none of the holder's items (R2). Nothing stops
before the confirmation, nor for anyone else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from consents.errors import ConsentRefused
from consents.feed import FeedState, record_feed
from consents.services import statement_create
from driver_records.models import DriverRecord
from driver_records.selectors import records_service_stopped
from jlis_gateway.client import Event
from jlis_gateway.models import EventKind
from jlis_gateway.services.door import events_at_the_door
from onestop.clock import japan_date
from onestop.models import AuditEvent
from safeguards.errors import SafeguardRefused
from safeguards.services import suspension_confirm, suspension_propose, suspension_reject

pytestmark = pytest.mark.django_db

ITEMS = {"name", "address", "birth_date"}


def propose(holder, supervisor):
    return suspension_propose(
        record_id=holder.record.pk, actor=supervisor, reason_code="misuse", grounds="evident", note="目的外の利用"
    )


def latest_info(serial: str, n: int) -> Event:
    """J-LIS's latest information about the holder of `serial`, all three items."""
    return Event(
        id=f"stop-{serial}-{n}",
        kind=EventKind.LATEST_INFO,
        holder_seq=20 + n,
        occurred_at=timezone.now() - timedelta(minutes=1),
        serial=serial,
        consent_id="",
        data={
            "old_serial": serial,
            "new_serial": f"{serial}9",
            "not_after": "2031-05-17T14:59:59+00:00",
            "name": "山田　太郎",
            "address": "東京都江東区有明三丁目１１番１号",
            "birth_date": "1970-01-01",
        },
    )


def items_at_the_door(*serials: str) -> list[set[str]]:
    events = [latest_info(serial, n) for n, serial in enumerate(serials)]
    return [set(e.data) & ITEMS for e in events_at_the_door(events, today=japan_date(timezone.now()))]


def test_r15_a_confirmed_suspension_stops_the_service_for_the_holder_only(
    suspect, bystander, clerk, supervisor, second_supervisor
):
    # Both holders consented to all three items: the door keeps them all, before anything.
    assert items_at_the_door(suspect.kept["serial"], bystander.kept["serial"]) == [ITEMS, ITEMS]
    request = suspension_confirm(request_id=propose(suspect, supervisor).pk, actor=second_supervisor)

    record = DriverRecord.objects.get(pk=suspect.record.pk)
    assert record.service_stopped and record.service_stopped_at == request.decided_at
    assert records_service_stopped([suspect.record.pk, bystander.record.pk]) == {suspect.record.pk}
    with pytest.raises(ConsentRefused) as refusal:
        statement_create(record_id=record.pk, items=["address"], actor=clerk)
    assert refusal.value.code == "service_suspended"
    assert record_feed(record).state == FeedState.SUSPENDED
    assert items_at_the_door(suspect.kept["serial"], bystander.kept["serial"]) == [set(), ITEMS]
    # The other holder goes on as before.
    other = DriverRecord.objects.get(pk=bystander.record.pk)
    assert not other.service_stopped and record_feed(other).state == FeedState.ACTIVE
    statement_create(record_id=other.pk, items=["address"], actor=clerk)
    # The stop is audited with the rest of the suspension, by the confirming supervisor.
    stop = AuditEvent.objects.get(action="record.service_stop")
    assert (stop.subject_id, stop.record_number, stop.actor) == (
        str(record.pk),
        record.number,
        second_supervisor,
    )


def test_r15_nothing_stops_before_the_confirmation_nor_after_a_rejection(suspect, clerk, supervisor, second_supervisor):
    proposal = propose(suspect, supervisor)
    assert not DriverRecord.objects.get(pk=suspect.record.pk).service_stopped
    suspension_reject(request_id=proposal.pk, actor=second_supervisor, note="事実なし")
    record = DriverRecord.objects.get(pk=suspect.record.pk)
    assert record.service_stopped_at is None and records_service_stopped([record.pk]) == set()
    assert record_feed(record).state == FeedState.ACTIVE
    assert items_at_the_door(suspect.kept["serial"]) == [ITEMS]
    statement_create(record_id=record.pk, items=["address"], actor=clerk)


def test_r15_a_suspension_is_final(suspect, supervisor, second_supervisor):
    request = suspension_confirm(request_id=propose(suspect, supervisor).pk, actor=second_supervisor)
    with pytest.raises(SafeguardRefused, match=r"^already_suspended:"):
        propose(suspect, second_supervisor)
    record = DriverRecord.objects.get(pk=suspect.record.pk)
    assert record.service_stopped_at == request.decided_at
