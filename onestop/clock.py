"""The one clock of the rules: the calendar day in Japan.

Every rule that speaks of a day (R5's consent period and expiry, R2's door, R11's certificate,
the applier's "today", reference numbers) reads it here, in Asia/Tokyo whatever the server's
TIME_ZONE, so that no two parts of the system can disagree on which day it is.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

JST = ZoneInfo("Asia/Tokyo")


def japan_date(at: datetime) -> date:
    """The Japan calendar day of an aware instant."""
    if at.tzinfo is None:
        raise ValueError("a naive datetime has no Japan date")
    return at.astimezone(JST).date()


def japan_today() -> date:
    """Today in Japan."""
    return japan_date(timezone.now())
