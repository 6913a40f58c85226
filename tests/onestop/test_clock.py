"""One clock for the rules (onestop/clock.py): the day in Japan, whatever TIME_ZONE says.

R5: a consent holds through 23:59:59 JST of its last valid day. 2029-03-31T15:30Z is already
1 April in Japan, while UTC and Los Angeles are still on 31 March.
"""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from consents.feed import FeedState, record_feed
from onestop.clock import japan_date
from tests.driver_records.world import holder

LAST_DAY = date(2029, 3, 31)
AFTER_IN_JAPAN = datetime(2029, 3, 31, 15, 30, tzinfo=UTC)  # 2029-04-01 00:30 JST
BEFORE_IN_JAPAN = datetime(2029, 3, 31, 14, 30, tzinfo=UTC)  # 2029-03-31 23:30 JST


@pytest.mark.django_db
@pytest.mark.parametrize("server_zone", ["Asia/Tokyo", "UTC", "America/Los_Angeles"])
def test_r05_the_feed_ends_after_the_last_valid_day_in_japan_whatever_time_zone_is_set(settings, server_zone):
    settings.TIME_ZONE = server_zone
    record = holder(serial="1", last_valid_day=LAST_DAY)
    assert record_feed(record, at=BEFORE_IN_JAPAN).state == FeedState.ACTIVE
    assert record_feed(record, at=AFTER_IN_JAPAN).state == FeedState.EXPIRED


@pytest.mark.parametrize("server_zone", ["UTC", "America/Los_Angeles", "Pacific/Kiritimati"])
def test_the_japan_date_ignores_time_zone(settings, server_zone):
    settings.TIME_ZONE = server_zone
    assert japan_date(AFTER_IN_JAPAN) == date(2029, 4, 1)
    assert japan_date(BEFORE_IN_JAPAN) == LAST_DAY


APPS = ("consents", "driver_records", "jlis_gateway", "safeguards", "operations", "onestop", "terminal")


def test_no_app_reads_the_day_from_the_server_time_zone():
    """`localdate` follows TIME_ZONE: a rule that used it could disagree with the others."""
    root = Path(__file__).resolve().parents[2]
    users = [
        str(path.relative_to(root))
        for app in APPS
        for path in (root / app).rglob("*.py")
        if "migrations" not in path.parts and "localdate" in path.read_text()
    ]
    assert users == []
