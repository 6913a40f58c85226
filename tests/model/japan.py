"""Japan's calendar as the rules use it, written again here from DOMAIN.md alone (the model must not
import the code it checks): the date in Japan, the consent period (民法 140/143) and the prefecture
an address begins with."""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta, timezone

JST = timezone(timedelta(hours=9), "JST")  # Japan has no daylight saving time

# JIS X 0401 codes, in order: an address (住所) is written from its prefecture.
PREFECTURE_NAMES = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県", "群馬県",
    "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県",
    "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県",
    "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県", "香川県", "愛媛県", "高知県", "福岡県",
    "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県",
)  # fmt: skip
PREFECTURE_CODES = {name: f"{n:02d}" for n, name in enumerate(PREFECTURE_NAMES, start=1)}


def japan_date(instant: datetime) -> date:
    """The day it is in Japan at this instant, whatever the server's time zone."""
    if instant.tzinfo is None:
        raise ValueError("a naive time has no day in Japan")
    return instant.astimezone(JST).date()


def end_of_japan_day(day: date) -> datetime:
    """23:59:59 JST of the day: a consent's last valid day ends then (DOMAIN.md "Period")."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=JST)


def consent_period(consent_date: date) -> tuple[date, date]:
    """(first day, last valid day) of a consent reflected on `consent_date` (R5).

    民法 140: the period is counted from the next day. 民法 143: ten years from that day end on
    the day before the same month-day ten years later; with no such day in that month, on the
    month's last day.
    """
    first = consent_date + timedelta(days=1)
    year = first.year + 10
    days_in_month = calendar.monthrange(year, first.month)[1]
    if first.day > days_in_month:
        return first, date(year, first.month, days_in_month)
    return first, date(year, first.month, first.day) - timedelta(days=1)


def prefecture_of(address: str) -> str | None:
    """The prefecture code an address begins with (R4: the holder's prefecture of residence)."""
    for name, code in PREFECTURE_CODES.items():
        if address.startswith(name):
            return code
    return None
