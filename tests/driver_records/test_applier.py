"""The applier on stored events (the path from the simulator through the poller is tested in
tests/jlis_gateway). Tests name the rule they prove."""

from datetime import timedelta

import pytest
from django.utils import timezone

from applier.batch import events_apply_pending
from applier.decide import Skip
from consents.models import ConsentStatus
from driver_records.models import RecordChange
from driver_records.services import record_update
from jlis_gateway.models import JlisEvent
from onestop.models import AuditEvent

from .world import consent_for, holder, latest_info

pytestmark = pytest.mark.django_db
NEW_ADDRESS = "東京都府中市多磨町３丁目１番地"


def test_r10_a_move_applies_the_new_address_and_relinks_the_new_serial():
    record = holder(serial="1001", address="東京都千代田区霞が関二丁目１番１号")
    event = latest_info(seq=1, old="1001", new="2002", address=NEW_ADDRESS)
    result = events_apply_pending()
    record.refresh_from_db()
    assert (result.applied, result.skipped) == (1, 0)
    assert (record.address, record.cert_serial, record.jlis_seq, record.version) == (NEW_ADDRESS, "2002", 1, 2)
    changes = {c.field: (c.old_value, c.new_value) for c in RecordChange.objects.filter(record=record)}
    assert changes["address"] == ("東京都千代田区霞が関二丁目１番１号", NEW_ADDRESS)
    assert changes["cert_serial"] == ("1001", "2002")
    event.refresh_from_db()
    assert (event.status, event.reason) == ("applied", "")
    audit = AuditEvent.objects.get(action="record.apply_jlis")
    assert audit.new_values["address"] == "***" and audit.serial == "2002"


def test_r13_the_next_event_finds_the_record_by_its_new_serial():
    record = holder(serial="1001")
    latest_info(seq=1, old="1001", new="2002", address="東京都新宿区１")
    latest_info(seq=2, old="2002", new="3003", address="東京都新宿区２")
    events_apply_pending(batch_size=1)  # two batches: the second reads the relinked serial from the database
    record.refresh_from_db()
    assert (record.address, record.cert_serial) == ("東京都新宿区２", "3003")


def test_r02_an_item_not_consented_is_never_applied_and_never_kept():
    record = holder(serial="1001", items=("address",), name="山田　太郎")
    event = latest_info(seq=1, old="1001", new="2002", address=NEW_ADDRESS, name="佐藤　花子")
    events_apply_pending()
    record.refresh_from_db()
    assert record.name == "山田　太郎" and record.address == NEW_ADDRESS
    event.refresh_from_db()
    assert "name" not in event.payload
    assert not RecordChange.objects.filter(new_value__contains="佐藤").exists()
    assert not AuditEvent.objects.filter(new_values__icontains="佐藤").exists()


def test_r12_a_two_card_holder_is_skipped_with_the_reason():
    record = holder(serial="1001", holding_status="licence_both")
    event = latest_info(seq=1, old="1001", new="2002", address=NEW_ADDRESS)
    events_apply_pending()
    event.refresh_from_db()
    record.refresh_from_db()
    assert (event.status, event.reason) == ("skipped", Skip.NOT_ELIGIBLE)
    assert record.address != NEW_ADDRESS and record.cert_serial == "1001"


def test_r12_a_holding_status_change_stops_the_feed_until_a_new_registration(clerk):
    record = holder(serial="1001")
    record = record_update(
        record_id=record.pk, expected_version=1, changes={"holding_status": "licence_both"}, actor=clerk
    )
    record = record_update(
        record_id=record.pk,
        expected_version=record.version,
        changes={"holding_status": "licence_card_only"},
        actor=clerk,
    )
    assert record.feed_stopped_at is not None
    first = latest_info(seq=1, old="1001", new="2002", address=NEW_ADDRESS)
    events_apply_pending()
    first.refresh_from_db()
    assert (first.status, first.reason) == ("skipped", Skip.FEED_STOPPED)
    # A new registration after the change starts the feed again.
    record.consents.update(status=ConsentStatus.SUPERSEDED)
    consent_for(record, items=("address",), created_at=timezone.now())
    latest_info(seq=2, old="1001", new="3003", address="東京都新宿区３")
    events_apply_pending()
    record.refresh_from_db()
    assert record.address == "東京都新宿区３"


def test_r11_nothing_is_applied_for_a_certificate_that_had_expired():
    record = holder(serial="1001")
    record.cert_not_after = timezone.now() - timedelta(days=2)
    record.save(update_fields=["cert_not_after"])
    event = latest_info(seq=1, old="1001", new="2002", address=NEW_ADDRESS, occurred_at=timezone.now())
    events_apply_pending()
    event.refresh_from_db()
    assert (event.status, event.reason) == ("skipped", Skip.CERTIFICATE_EXPIRED)


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (ConsentStatus.REVOKED, Skip.CONSENT_REVOKED),
        (ConsentStatus.EXPIRED, Skip.CONSENT_EXPIRED),
        (ConsentStatus.SUSPENDED, Skip.CONSENT_SUSPENDED),
        (ConsentStatus.PENDING, Skip.NO_ACTIVE_CONSENT),
    ],
)
def test_r09_nothing_is_applied_without_an_active_consent(status, reason):
    record = holder(serial="1001", status=status)
    event = latest_info(seq=1, old="1001", new="2002", address=NEW_ADDRESS)
    events_apply_pending()
    event.refresh_from_db()
    record.refresh_from_db()
    assert (event.status, event.reason) == ("skipped", reason)
    assert record.address != NEW_ADDRESS
    assert "address" not in event.payload  # nothing consented was in force: the data is not kept


def test_r05_an_active_consent_past_its_last_day_applies_nothing():
    holder(serial="1001", last_valid_day=timezone.localdate() - timedelta(days=1))
    event = latest_info(seq=1, old="1001", new="2002", address=NEW_ADDRESS)
    events_apply_pending()
    event.refresh_from_db()
    assert event.reason == Skip.CONSENT_EXPIRED


def test_duplicate_and_out_of_order_events_are_applied_once_in_order():
    record = holder(serial="A")
    # J-LIS delivers the holder's third event before the second, and the second twice.
    third = latest_info(seq=3, old="B", new="C", address="東京都新宿区３")
    second = latest_info(seq=2, old="A", new="B", address="東京都新宿区２")
    events_apply_pending()
    events_apply_pending()
    record.refresh_from_db()
    assert (record.address, record.cert_serial, record.jlis_seq) == ("東京都新宿区３", "C", 3)
    third.refresh_from_db()
    second.refresh_from_db()
    assert third.status == second.status == "applied"
    assert RecordChange.objects.filter(record=record, field="address").count() == 2


def test_an_older_event_arriving_late_is_skipped_as_stale():
    record = holder(serial="A")
    latest_info(seq=3, old="A", new="C", address="東京都新宿区３")
    events_apply_pending()
    late = latest_info(seq=2, old="A", new="B", address="東京都新宿区２")
    events_apply_pending()
    late.refresh_from_db()
    record.refresh_from_db()
    assert (late.status, late.reason) == ("skipped", Skip.STALE)
    assert record.address == "東京都新宿区３"


def test_an_unknown_serial_waits_then_is_skipped_after_the_grace_period(settings):
    event = latest_info(seq=1, old="nobody", new="X", address=NEW_ADDRESS)
    result = events_apply_pending()
    event.refresh_from_db()
    assert result.waiting == 1 and event.status == "pending"
    settings.JLIS_UNKNOWN_SERIAL_GRACE_SECONDS = 0
    events_apply_pending()
    event.refresh_from_db()
    assert (event.status, event.reason) == ("skipped", Skip.UNKNOWN_SERIAL)
    assert "address" not in event.payload


def test_applying_twice_changes_nothing_more():
    record = holder(serial="1001")
    latest_info(seq=1, old="1001", new="2002", address=NEW_ADDRESS)
    events_apply_pending()
    before = (RecordChange.objects.count(), AuditEvent.objects.count())
    JlisEvent.objects.update(status="pending")  # as if a crashed worker ran the batch again
    events_apply_pending()
    record.refresh_from_db()
    assert record.version == 2
    assert (RecordChange.objects.count(), AuditEvent.objects.count()) == before
