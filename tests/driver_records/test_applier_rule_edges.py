"""The edges of the rules on the event path, each on both apply paths (the batch and the per-event
one): the new certificate's end of validity after a move (R11), the last valid day of a consent
and of a certificate in Japan time (R5, R11), an event whose holder sequence is the one already
applied (order), and the items the holder did not choose on every way an event is skipped (R2).

Every expected value comes from the rule (DOMAIN.md) and the choices docs/rules.md states, never
from the decision function."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from applier.batch import events_apply_pending
from applier.decide import Skip
from consents.feed import FeedState, record_feed
from consents.models import ConsentStatus
from driver_records.models import DriverRecord, RecordChange
from jlis_gateway.models import JlisEvent
from onestop.models import AuditEvent
from tests.factories import DriverRecordFactory
from tests.support.one_by_one import events_apply_one_by_one

from .world import holder, latest_info

pytestmark = pytest.mark.django_db
JST = ZoneInfo("Asia/Tokyo")
ITEMS = {"name", "address", "birth_date"}
NEW_ADDRESS = "東京都府中市多磨町３丁目１番地"
LATER_ADDRESS = "東京都新宿区西新宿二丁目８番１号"
PATHS = {"batch": events_apply_pending, "per_event": events_apply_one_by_one}


@pytest.fixture(params=sorted(PATHS))
def apply(request: pytest.FixtureRequest) -> Callable[..., object]:
    return PATHS[request.param]


def _certificate_ends(record: DriverRecord, last_day: date) -> None:
    """The linked certificate is valid up to 23:59:59 JST of `last_day` (DOMAIN.md)."""
    end = datetime(last_day.year, last_day.month, last_day.day, 23, 59, 59, tzinfo=JST)
    DriverRecord.objects.filter(pk=record.pk).update(cert_not_after=end)


# --- R11: the new certificate's end, after a move ---------------------------------------------


def test_r11_after_a_move_the_new_certificates_end_cuts_off_what_follows_it(apply):
    """The move relinks the record to the new certificate with its end of validity (the event's
    not_after); an event about that certificate that occurred after its end gives nothing (R11)."""
    record = holder(serial="1001")
    new_end = datetime(2031, 5, 17, 23, 59, 59, tzinfo=JST)  # its last day, 23:59:59 JST
    move = latest_info(seq=1, old="1001", new="2002", address=NEW_ADDRESS, occurred_at=datetime(2029, 4, 1, tzinfo=UTC))
    move.payload["not_after"] = new_end.isoformat()
    move.save(update_fields=["payload"])
    apply(at=datetime(2029, 4, 1, 1, tzinfo=UTC))
    record.refresh_from_db()
    assert (record.cert_serial, record.cert_not_after) == ("2002", new_end)
    assert record_feed(record, at=datetime(2031, 5, 18, 0, 0, tzinfo=JST)).state == (
        FeedState.STOPPED_CERTIFICATE_EXPIRED
    )

    after_its_end = latest_info(
        seq=2, old="2002", new="3003", address=LATER_ADDRESS, occurred_at=datetime(2031, 5, 18, 9, tzinfo=JST)
    )
    apply(at=datetime(2031, 5, 18, 10, tzinfo=JST))
    after_its_end.refresh_from_db()
    record.refresh_from_db()
    assert (after_its_end.status, after_its_end.reason) == ("skipped", Skip.CERTIFICATE_EXPIRED)
    assert (record.address, record.cert_serial) == (NEW_ADDRESS, "2002")


# --- R11: the certificate's last valid day, in Japan time --------------------------------------


def test_r11_an_event_at_the_certificates_last_instant_applies(apply):
    """Valid up to 23:59:59 JST of its last day: an event J-LIS dates at that instant counts."""
    record = holder(serial="1001")
    _certificate_ends(record, date(2030, 5, 17))
    event = latest_info(
        seq=1, old="1001", new="2002", address=NEW_ADDRESS, occurred_at=datetime(2030, 5, 17, 23, 59, 59, tzinfo=JST)
    )
    apply(at=datetime(2030, 5, 18, 9, tzinfo=JST))
    event.refresh_from_db()
    record.refresh_from_db()
    assert (event.status, event.reason) == ("applied", "")
    assert (record.address, record.cert_serial) == (NEW_ADDRESS, "2002")


def test_r11_an_event_at_midnight_after_the_certificates_last_day_gives_nothing(apply):
    """00:00 JST the next day (still the last day in UTC): the certificate has expired."""
    record = holder(serial="1001")
    _certificate_ends(record, date(2030, 5, 17))
    at = datetime(2030, 5, 18, 0, 0, 0, tzinfo=JST)
    assert at.astimezone(UTC).date() == date(2030, 5, 17)
    event = latest_info(seq=1, old="1001", new="2002", address=NEW_ADDRESS, occurred_at=at)
    apply(at=datetime(2030, 5, 18, 9, tzinfo=JST))
    event.refresh_from_db()
    record.refresh_from_db()
    assert (event.status, event.reason) == ("skipped", Skip.CERTIFICATE_EXPIRED)
    assert record.address != NEW_ADDRESS and record.cert_serial == "1001"


# --- R10: what a move changes -------------------------------------------------------------------


def test_r10_an_item_jlis_sends_unchanged_is_no_change(apply):
    """J-LIS sends the consented items as they are now: the date of birth it repeats is not a
    change of the holder's data (no history row, no audit of it); the new address is."""
    record = holder(serial="1001", birth_date=date(1990, 4, 1))
    latest_info(seq=1, old="1001", new="2002", address=NEW_ADDRESS, birth_date="1990-04-01")
    apply()
    record.refresh_from_db()
    assert record.birth_date == date(1990, 4, 1)
    changed = set(RecordChange.objects.filter(record=record).values_list("field", flat=True))
    assert changed == {"address", "cert_serial", "cert_not_after"}
    assert set(AuditEvent.objects.get(action="record.apply_jlis").new_values) == changed | {"event_id"}


# --- R5: the consent's last valid day, in Japan time --------------------------------------------


def test_r05_the_consents_last_valid_day_applies_up_to_its_last_second_in_japan(apply):
    record = holder(serial="1001", last_valid_day=date(2035, 12, 31))
    _certificate_ends(record, date(2038, 1, 1))
    at = datetime(2035, 12, 31, 23, 59, 59, tzinfo=JST)
    event = latest_info(seq=1, old="1001", new="2002", address=NEW_ADDRESS, occurred_at=at)
    apply(at=at)
    event.refresh_from_db()
    record.refresh_from_db()
    assert (event.status, event.reason) == ("applied", "")
    assert record.address == NEW_ADDRESS


def test_r05_the_day_after_the_consents_last_valid_day_applies_nothing_though_utc_is_still_on_it(apply):
    record = holder(serial="1001", last_valid_day=date(2035, 12, 31))
    _certificate_ends(record, date(2038, 1, 1))
    at = datetime(2036, 1, 1, 0, 0, 0, tzinfo=JST)
    assert at.astimezone(UTC).date() == date(2035, 12, 31)  # a UTC date would still say "valid"
    event = latest_info(seq=1, old="1001", new="2002", address=NEW_ADDRESS, occurred_at=at)
    apply(at=at)
    event.refresh_from_db()
    record.refresh_from_db()
    assert (event.status, event.reason) == ("skipped", Skip.CONSENT_EXPIRED)
    assert record.address != NEW_ADDRESS and record.cert_serial == "1001"


# --- R12: the stop covers every consent registered until it ---------------------------------------


def test_r12_a_consent_registered_at_the_instant_of_the_stop_is_stopped_too(apply):
    """The feed stops for every consent registered until the holding status left card-only. A
    consent stamped by a clock running ahead is registered "at" the stop's own instant (the stop
    is never before a consent registered until then): it is stopped all the same."""
    record = holder(serial="1001", items=("address",))
    consent = record.consents.get()
    consent.created_at = timezone.now() + timedelta(minutes=10)
    consent.save(update_fields=["created_at"])
    DriverRecord.objects.filter(pk=record.pk).update(holding_status="licence_both")
    DriverRecord.objects.filter(pk=record.pk).update(holding_status="licence_card_only")
    record.refresh_from_db()
    assert record.feed_stopped_at == consent.created_at  # the boundary itself
    event = latest_info(seq=1, old="1001", new="2002", address=NEW_ADDRESS)
    apply()
    event.refresh_from_db()
    record.refresh_from_db()
    assert (event.status, event.reason) == ("skipped", Skip.FEED_STOPPED)
    assert record.address != NEW_ADDRESS


# --- Order: the holder sequence already applied --------------------------------------------------


def test_order_an_event_with_the_holder_sequence_already_applied_is_stale(apply):
    """J-LIS numbers each holder's events; once sequence 5 is applied, another event carrying 5
    (here re-sent under another event id) is not newer data and overwrites nothing."""
    record = holder(serial="1001")
    latest_info(seq=5, old="1001", new="2002", address=NEW_ADDRESS, event_id="ev-seq5")
    apply()
    again = latest_info(seq=5, old="2002", new="3003", address=LATER_ADDRESS, event_id="ev-seq5-again")
    apply()
    again.refresh_from_db()
    record.refresh_from_db()
    assert (again.status, again.reason) == ("skipped", Skip.STALE)
    assert (record.address, record.cert_serial, record.jlis_seq) == (NEW_ADDRESS, "2002", 5)
    newer = latest_info(seq=6, old="2002", new="3003", address=LATER_ADDRESS)
    apply()
    newer.refresh_from_db()
    record.refresh_from_db()
    assert newer.status == "applied" and (record.address, record.cert_serial) == (LATER_ADDRESS, "3003")


# --- R2: what is kept of a skipped event ----------------------------------------------------------


def _unknown_serial(settings) -> str:
    settings.JLIS_UNKNOWN_SERIAL_GRACE_SECONDS = 0
    holder(serial="1001", items=("address",))
    return "nobody"


def _no_consent(settings) -> str:
    DriverRecordFactory(cert_serial="1001", cert_issuer_key_id="ab" * 20)  # linked, but never consented
    return "1001"


def _stale(settings) -> str:
    record = holder(serial="1001", items=("address",))
    DriverRecord.objects.filter(pk=record.pk).update(jlis_seq=3)  # J-LIS's sequence 3 is applied
    return "1001"


def _with_consent(status: str) -> Callable[..., str]:
    def arrange(settings) -> str:
        holder(serial="1001", items=("address",), status=status)
        return "1001"

    return arrange


def _past_last_valid_day(settings) -> str:
    holder(serial="1001", items=("address",), last_valid_day=date(2020, 1, 1))  # still marked active
    return "1001"


def _two_cards(settings) -> str:
    holder(serial="1001", items=("address",), holding_status="licence_both")
    return "1001"


def _feed_stopped(settings) -> str:
    record = holder(serial="1001", items=("address",))
    # The status leaves card-only and comes back, by a plain update: the feed stays stopped (R12).
    DriverRecord.objects.filter(pk=record.pk).update(holding_status="licence_both")
    DriverRecord.objects.filter(pk=record.pk).update(holding_status="licence_card_only")
    return "1001"


def _certificate_expired(settings) -> str:
    record = holder(serial="1001", items=("address",))
    _certificate_ends(record, date(2020, 1, 1))
    return "1001"


# Each way latest information is skipped, and which items stay on the stored event: none when no
# consent is known or in force, the consented one (address) otherwise (docs/rules.md, R2).
SKIPS = {
    "unknown_serial": (_unknown_serial, Skip.UNKNOWN_SERIAL, set()),
    "stale": (_stale, Skip.STALE, {"address"}),
    "no_consent": (_no_consent, Skip.NO_ACTIVE_CONSENT, set()),
    "pending": (_with_consent(ConsentStatus.PENDING), Skip.NO_ACTIVE_CONSENT, set()),
    "revoked": (_with_consent(ConsentStatus.REVOKED), Skip.CONSENT_REVOKED, set()),
    "expired": (_with_consent(ConsentStatus.EXPIRED), Skip.CONSENT_EXPIRED, set()),
    "past_its_last_day": (_past_last_valid_day, Skip.CONSENT_EXPIRED, set()),
    "suspended": (_with_consent(ConsentStatus.SUSPENDED), Skip.CONSENT_SUSPENDED, set()),
    "two_cards": (_two_cards, Skip.NOT_ELIGIBLE, {"address"}),
    "feed_stopped": (_feed_stopped, Skip.FEED_STOPPED, {"address"}),
    "certificate_expired": (_certificate_expired, Skip.CERTIFICATE_EXPIRED, {"address"}),
}


def test_r02_every_skip_reason_is_covered():
    reasons = {value for name, value in vars(Skip).items() if name.isupper()}
    assert reasons == {reason for _, reason, _ in SKIPS.values()}


@pytest.mark.parametrize("case", sorted(SKIPS))
def test_r02_a_skipped_event_keeps_no_item_the_holder_did_not_choose(case, apply, settings):
    arrange, reason, kept = SKIPS[case]
    serial = arrange(settings)
    event = latest_info(seq=2, old=serial, new="2002", address=NEW_ADDRESS, name="佐藤　花子", birth_date="1990-04-01")
    apply()
    event.refresh_from_db()
    assert (event.status, event.reason) == ("skipped", reason)
    assert set(event.payload) & ITEMS == kept
    stored = JlisEvent.objects.filter(pk=event.pk).values_list("payload", flat=True).get()
    assert "佐藤" not in str(stored) and "1990-04-01" not in str(stored)
