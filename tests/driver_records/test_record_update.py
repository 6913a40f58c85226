import datetime

import pytest

from driver_records.models import RecordChange
from driver_records.services import StaleRecordError, record_update
from onestop.models import AuditEvent
from tests.factories import DriverRecordFactory


@pytest.mark.django_db
def test_update_writes_history_and_audit_and_bumps_version(clerk):
    record = DriverRecordFactory()
    updated = record_update(
        record_id=record.pk, expected_version=1, changes={"address": "東京都府中市多磨町３丁目１番地"}, actor=clerk
    )
    assert updated.version == 2
    assert updated.address == "東京都府中市多磨町３丁目１番地"
    change = RecordChange.objects.get(record=record)
    assert (change.field, change.old_value, change.source, change.actor) == (
        "address",
        "東京都千代田区霞が関二丁目１番１号",
        "counter",
        clerk,
    )
    event = AuditEvent.objects.get(action="record.update")
    assert event.record_number == record.number
    assert event.new_values == {"address": "***"}  # the trail proves the change without the data


@pytest.mark.django_db
def test_a_stale_concurrent_edit_is_refused_not_lost(clerk, supervisor):
    record = DriverRecordFactory()
    # Both opened version 1; the first save wins, the second is told to reload.
    record_update(record_id=record.pk, expected_version=1, changes={"address": "東京都新宿区１"}, actor=clerk)
    with pytest.raises(StaleRecordError):
        record_update(
            record_id=record.pk,
            expected_version=1,
            changes={"birth_date": datetime.date(1981, 1, 1)},
            actor=supervisor,
        )
    record.refresh_from_db()
    assert record.address == "東京都新宿区１"
    assert record.birth_date == datetime.date(1980, 5, 17)
    assert record.version == 2


@pytest.mark.django_db
def test_holding_status_change_is_timestamped(clerk):
    record = DriverRecordFactory()
    updated = record_update(
        record_id=record.pk, expected_version=1, changes={"holding_status": "licence_both"}, actor=clerk
    )
    assert updated.holding_status_changed_at is not None
