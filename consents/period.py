"""The consent period (R5, 民法 140 and 143), in Japan dates whatever the server's time zone.

The consent date is the day J-LIS reflected the consent. The first day of the period is the
next day (民法 140: the first day is not counted). Ten years on, the period ends on the day
before the day corresponding to the first day (民法 143(2)); when that month has no such day,
it ends on the last day of that month. The consent holds until 23:59:59 JST of that last day.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from onestop.clock import JST, japan_date

__all__ = ["JST", "ConsentPeriod", "consent_period", "end_of_validity", "japan_date", "period_in_force"]

PERIOD_YEARS = 10


class ConsentPeriod(NamedTuple):
    first_day: date
    last_valid_day: date


def consent_period(consent_date: date) -> ConsentPeriod:
    first_day = consent_date + timedelta(days=1)
    year = first_day.year + PERIOD_YEARS
    days_in_month = calendar.monthrange(year, first_day.month)[1]
    if first_day.day > days_in_month:
        # 29 February ten years on does not exist: the period ends on the month's last day.
        return ConsentPeriod(first_day, date(year, first_day.month, days_in_month))
    return ConsentPeriod(first_day, first_day.replace(year=year) - timedelta(days=1))


def end_of_validity(last_valid_day: date) -> datetime:
    """The first instant at which the consent no longer holds: midnight JST after the last day."""
    return datetime.combine(last_valid_day + timedelta(days=1), time(0), tzinfo=JST)


def period_in_force(*, consent_date: date, last_valid_day: date, at: datetime) -> bool:
    """Whether a reflected consent holds at the instant `at`.

    It holds from its consent date (the day J-LIS reflected it) through 23:59:59 JST of its last
    valid day. The ten years are counted from the next day, but the consent exists from the
    day it was reflected.
    """
    return consent_date <= japan_date(at) and at < end_of_validity(last_valid_day)
