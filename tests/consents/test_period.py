"""R5: the consent period, 民法 140 and 143 (DOMAIN.md "Period")."""

import calendar
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consents.period import JST, consent_period, end_of_validity, japan_date, period_in_force

EVERY_DATE = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))


@pytest.mark.parametrize(
    ("consent_date", "first_day", "last_valid_day"),
    [
        (date(2023, 5, 18), date(2023, 5, 19), date(2033, 5, 18)),
        (date(2024, 2, 28), date(2024, 2, 29), date(2034, 2, 28)),
        (date(2024, 2, 29), date(2024, 3, 1), date(2034, 2, 28)),
        (date(2030, 2, 28), date(2030, 3, 1), date(2040, 2, 29)),
        (date(2025, 12, 31), date(2026, 1, 1), date(2035, 12, 31)),
    ],
)
def test_r05_period_matches_the_domain_table(consent_date, first_day, last_valid_day):
    assert consent_period(consent_date) == (first_day, last_valid_day)


@given(EVERY_DATE)
def test_r05_period_starts_the_next_day_and_ends_ten_years_on(consent_date):
    first_day, last_day = consent_period(consent_date)
    assert first_day == consent_date + timedelta(days=1)
    assert last_day.year == consent_date.year + 10
    # Ten years hold 3650 days plus their 29 Februaries: two or three, one across 2100 (not a
    # leap year); a period from 29 February ends a day short of its corresponding day.
    assert 3651 <= (last_day - first_day).days + 1 <= 3653


@given(EVERY_DATE)
def test_r05_period_ends_the_day_before_the_corresponding_day(consent_date):
    first_day, last_day = consent_period(consent_date)
    year = first_day.year + 10
    if first_day.day <= calendar.monthrange(year, first_day.month)[1]:
        assert last_day + timedelta(days=1) == first_day.replace(year=year)
    else:
        # No corresponding day (29 February in a common year): the month's last day.
        assert (first_day.month, first_day.day) == (2, 29)
        assert last_day == date(year, 2, 28)


@given(EVERY_DATE)
def test_r05_a_later_consent_never_ends_earlier(consent_date):
    this_last = consent_period(consent_date).last_valid_day
    next_last = consent_period(consent_date + timedelta(days=1)).last_valid_day
    # One day later moves the end by one day, except that the consents of 28 and 29 February
    # of a leap year both end on 28 February ten years on, and that when the tenth year is a
    # leap year, 27 February ends on the 27th and 28 February on the 29th (2030-02-28 ->
    # 2040-02-29 in DOMAIN.md's table).
    step = (next_last - this_last).days
    month_day = (consent_date.month, consent_date.day)
    assert (
        step == 1
        or (step == 0 and month_day == (2, 28))
        or (step == 2 and month_day == (2, 27) and calendar.isleap(consent_date.year + 10))
    )


def test_r05_every_date_1990_to_2100_has_a_period_of_ten_years():
    day, seen_ends = date(1990, 1, 1), set()
    while day <= date(2100, 12, 31):
        first_day, last_day = consent_period(day)
        assert first_day <= last_day
        seen_ends.add(last_day)
        day += timedelta(days=1)
    # Only 28 February of leap years shares its end with the next day.
    leap_years = sum(calendar.isleap(y) for y in range(1990, 2101))
    assert len(seen_ends) == (date(2101, 1, 1) - date(1990, 1, 1)).days - leap_years


def _in_force(at: datetime) -> bool:
    return period_in_force(consent_date=date(2023, 5, 18), last_valid_day=date(2033, 5, 18), at=at)


def test_r05_consent_holds_until_235959_jst_of_the_last_day():
    last_second = datetime(2033, 5, 18, 23, 59, 59, 999999, tzinfo=JST)
    assert _in_force(last_second)
    assert not _in_force(last_second + timedelta(microseconds=1))
    # The same instants in UTC: 14:59:59Z is still in force, 15:00Z is not.
    assert _in_force(datetime(2033, 5, 18, 14, 59, 59, tzinfo=UTC))
    assert not _in_force(datetime(2033, 5, 18, 15, 0, tzinfo=UTC))
    assert end_of_validity(date(2033, 5, 18)) == datetime(2033, 5, 18, 15, 0, tzinfo=UTC)


def test_r05_consent_holds_from_its_japan_consent_date():
    # 2023-05-17 15:00Z is already 2023-05-18 in Japan.
    assert _in_force(datetime(2023, 5, 17, 15, 0, tzinfo=UTC))
    assert not _in_force(datetime(2023, 5, 17, 14, 59, tzinfo=UTC))


@pytest.mark.parametrize("server_tz", ["UTC", "America/Los_Angeles", "Pacific/Kiritimati"])
def test_r05_japan_dates_do_not_depend_on_the_server_time_zone(server_tz, monkeypatch):
    monkeypatch.setenv("TZ", server_tz)
    time.tzset()
    try:
        assert japan_date(datetime(2033, 5, 18, 15, 0, tzinfo=UTC)) == date(2033, 5, 19)
        assert japan_date(datetime(2033, 5, 18, 14, 59, tzinfo=UTC)) == date(2033, 5, 18)
    finally:
        monkeypatch.undo()
        time.tzset()


def test_japan_date_refuses_a_naive_instant():
    with pytest.raises(ValueError, match="naive"):
        japan_date(datetime(2033, 5, 18, 12, 0))
