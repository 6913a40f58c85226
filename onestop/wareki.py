"""Japanese era dates (和暦): read as a clerk types them, written as a clerk reads them.

The eras and their first days are those of the modern era names (明治 to 令和), as the Gregorian
calendar counts them: 大正 from 1912-07-30, 昭和 from 1926-12-25, 平成 from 1989-01-08 (元号を改める
政令, 昭和64年政令第1号), 令和 from 2019-05-01 (平成31年政令第143号). 明治 is counted from
1868-01-25 (its first year began on 慶応4年1月1日); dates before 1873 are not dates a licence
record holds.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Era:
    name: str
    letter: str
    english: str
    first_day: date


ERAS = (
    Era("明治", "M", "Meiji", date(1868, 1, 25)),
    Era("大正", "T", "Taisho", date(1912, 7, 30)),
    Era("昭和", "S", "Showa", date(1926, 12, 25)),
    Era("平成", "H", "Heisei", date(1989, 1, 8)),
    Era("令和", "R", "Reiwa", date(2019, 5, 1)),
)
_BY_MARK = {mark: era for era in ERAS for mark in (era.name, era.letter)}


class DateInputError(ValueError):
    """Text that is not a date, or a date its era did not have (平成31年5月1日)."""


def era_of(day: date) -> Era | None:
    """The era `day` falls in (None before 明治)."""
    found = None
    for era in ERAS:
        if day >= era.first_day:
            found = era
    return found


def era_year(day: date) -> tuple[Era, int] | None:
    era = era_of(day)
    return None if era is None else (era, day.year - era.first_day.year + 1)


def wareki(day: date) -> str:
    """平成2年4月1日 (元年 for an era's first year); the Gregorian date before 明治."""
    found = era_year(day)
    if found is None:
        return f"{day.year}年{day.month}月{day.day}日"
    era, year = found
    return f"{era.name}{'元' if year == 1 else year}年{day.month}月{day.day}日"


def wareki_english(day: date) -> str:
    """Heisei 2 (the era year only), for English pages beside the Gregorian date."""
    found = era_year(day)
    return "" if found is None else f"{found[0].english} {found[1]}"


_SEP = r"\s*[-/.年月]\s*"
_ERA_DATE = re.compile(
    rf"^(?P<era>明治|大正|昭和|平成|令和|[MTSHR])\s*(?P<y>元|\d{{1,2}}){_SEP}(?P<m>\d{{1,2}}){_SEP}(?P<d>\d{{1,2}})\s*日?$"
)
_ERA_COMPACT = re.compile(r"^(?P<era>[MTSHR])(?P<y>\d{2})(?P<m>\d{2})(?P<d>\d{2})$")
_GREGORIAN = re.compile(rf"^(?P<y>\d{{4}}){_SEP}(?P<m>\d{{1,2}}){_SEP}(?P<d>\d{{1,2}})\s*日?$")
_GREGORIAN_COMPACT = re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})$")


def date_input(text: str) -> date:
    """A date typed at the counter: 和暦 (平成2年4月1日, 平成元年…, H2.4.1, h02/04/01, H020401,
    ㍻2.4.1) or Gregorian (1990-04-01, 1990/4/1, 1990年4月1日, 19900401); widths do not matter.
    Raises DateInputError for anything else, and for a date outside the era named."""
    typed = unicodedata.normalize("NFKC", text).strip().upper()
    for pattern in (_ERA_DATE, _ERA_COMPACT):
        if match := pattern.match(typed):
            era = _BY_MARK[match["era"]]
            year = 1 if match["y"] == "元" else int(match["y"])
            return _era_day(era, year, int(match["m"]), int(match["d"]))
    for pattern in (_GREGORIAN, _GREGORIAN_COMPACT):
        if match := pattern.match(typed):
            return _day(int(match["y"]), int(match["m"]), int(match["d"]))
    raise DateInputError(text)


def _day(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError as bad:
        raise DateInputError(f"{year}-{month}-{day}") from bad


def _era_day(era: Era, year: int, month: int, day: int) -> date:
    if year < 1:
        raise DateInputError(f"{era.name}{year}")
    result = _day(era.first_day.year + year - 1, month, day)
    following = ERAS.index(era) + 1
    if result < era.first_day or (following < len(ERAS) and result >= ERAS[following].first_day):
        raise DateInputError(f"{era.name}{year}年{month}月{day}日")
    return result
