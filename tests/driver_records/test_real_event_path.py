"""R2, R10-R13 through the real event path: counter registration -> outbox relay -> the J-LIS
simulator over HTTP -> poll -> apply. Each test plays J-LIS's side with the simulator."""

from datetime import date

import pytest

from applier.batch import events_apply_pending
from consents.feed import FeedState, record_feed
from consents.models import ConsentStatus, TermsVersion
from driver_records.services import record_update
from jlis_gateway.models import JlisEvent
from jlis_gateway.services.poll import events_poll
from tests.counter_flow import register_at_counter
from tests.factories import DriverRecordFactory

pytestmark = pytest.mark.django_db(transaction=True)
NEW_ADDRESS = "東京都府中市多磨町３丁目１番地"


@pytest.fixture
def record(clerk):
    TermsVersion.objects.create(version="2025.1", effective_date=date(2025, 3, 24), text="利用規約")
    return DriverRecordFactory(address="東京都千代田区霞が関二丁目１番１号", name="山田　太郎")


def poll_and_apply():
    for _ in range(20):
        result = events_poll()
        if not result.has_more:
            break
    return events_apply_pending()


@pytest.fixture
def active_consent(record, clerk, issue_card_for, jlis_simulator):
    def make(items=("address", "name")):
        card = issue_card_for(record)
        consent = register_at_counter(record, clerk, card, items)
        jlis_simulator.reflect(consent_id=consent.jlis_consent_id)
        poll_and_apply()
        consent.refresh_from_db()
        record.refresh_from_db()
        assert consent.status == ConsentStatus.ACTIVE
        assert record.cert_serial == card.serial  # R13: linked to the signing certificate
        return consent, card

    return make


def test_r10_r13_a_move_reaches_the_record_with_the_new_serial(record, active_consent, jlis_simulator):
    _consent, card = active_consent()
    jlis_simulator.move(holder=1, address=NEW_ADDRESS)
    result = poll_and_apply()
    record.refresh_from_db()
    assert result.applied == 1
    assert record.address == NEW_ADDRESS
    assert record.cert_serial not in ("", card.serial)  # relinked to the new certificate
    assert record.changes.filter(field="cert_serial", old_value=card.serial).exists()
    # And the next move is found by the new serial.
    jlis_simulator.move(holder=1, address="東京都新宿区西新宿二丁目８番１号")
    poll_and_apply()
    record.refresh_from_db()
    assert record.address == "東京都新宿区西新宿二丁目８番１号"


def test_r02_an_item_not_consented_is_neither_applied_nor_stored(record, active_consent, jlis_simulator):
    active_consent(items=("address",))
    jlis_simulator.rename(holder=1, name="佐藤　花子")
    poll_and_apply()
    record.refresh_from_db()
    assert record.name == "山田　太郎"
    assert not any("佐藤" in str(payload) for payload in JlisEvent.objects.values_list("payload", flat=True))
    assert not record.changes.filter(new_value__contains="佐藤").exists()


def test_r11_after_expiry_nothing_arrives_until_the_holder_registers_again(
    record, clerk, active_consent, jlis_simulator, issue_card_for
):
    active_consent()
    jlis_simulator.expire(holder=1)
    jlis_simulator.move(holder=1, address=NEW_ADDRESS)  # a new certificate after expiry
    poll_and_apply()
    record.refresh_from_db()
    assert record.address != NEW_ADDRESS  # J-LIS provided nothing
    # The holder registers again at the counter with the new card: the feed starts again.
    record.address = NEW_ADDRESS  # the clerk sees the new address on the card's certificate
    card = issue_card_for(record)
    consent = register_at_counter(record, clerk, card, ("address", "name"))
    jlis_simulator.reflect(consent_id=consent.jlis_consent_id)
    poll_and_apply()
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.ACTIVE


def test_r12_a_two_card_holder_is_skipped_with_the_reason(record, clerk, active_consent, jlis_simulator):
    active_consent()
    record.refresh_from_db()
    record_update(
        record_id=record.pk, expected_version=record.version, changes={"holding_status": "licence_both"}, actor=clerk
    )
    jlis_simulator.move(holder=1, address=NEW_ADDRESS)
    poll_and_apply()
    record.refresh_from_db()
    event = JlisEvent.objects.filter(kind="latest_info").get()
    assert (event.status, event.reason) == ("skipped", "not_eligible")
    assert record.address != NEW_ADDRESS
    assert record_feed(record).state == FeedState.STOPPED_HOLDING_STATUS


def test_the_holder_page_lists_the_events_about_each_of_its_certificates(record, active_consent, jlis_simulator):
    from consents.feed import record_jlis_events

    active_consent()
    jlis_simulator.move(holder=1, address=NEW_ADDRESS)
    poll_and_apply()
    record.refresh_from_db()
    kinds = [(e.kind, e.status) for e in record_jlis_events(record)]
    assert ("latest_info", "applied") in kinds and ("consent_reflected", "applied") in kinds


def test_r11_a_mynaportal_re_registration_with_a_new_certificate_applies_its_data_at_once(
    record, clerk, active_consent, jlis_simulator
):
    from consents.models import Channel
    from consents.services import mynaportal_link_record

    active_consent()
    mynaportal_link_record(record_id=record.pk, actor=clerk)
    jlis_simulator.expire(holder=1)
    jlis_simulator.move(holder=1, address=NEW_ADDRESS)  # the new certificate carries the new address
    poll_and_apply()
    record.refresh_from_db()
    assert record.address != NEW_ADDRESS  # nothing provided after the expiry
    jlis_simulator.register(holder=1, items=["address"])  # signed with the new certificate
    poll_and_apply()
    record.refresh_from_db()
    assert record.address == NEW_ADDRESS  # the certificate's data, applied at once
    consent = record.consents.get(status=ConsentStatus.ACTIVE)
    assert consent.channel == Channel.MYNAPORTAL and record.cert_serial == consent.cert_serial
