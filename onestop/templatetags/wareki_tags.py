"""Dates as a clerk reads them: 和暦 with the Western date beside it, times in Japan's time."""

from __future__ import annotations

from datetime import date, datetime

from django import template
from django.utils import timezone, translation
from django.utils.formats import date_format

from onestop.wareki import wareki, wareki_english

register = template.Library()


@register.filter
def date_both(day: date | None) -> str:
    """平成2年4月1日（1990年4月1日）; in English 1 April 1990 (Heisei 2)."""
    if not day:
        return ""
    if translation.get_language() == "en":
        era = wareki_english(day)
        western = f"{day.day} {date_format(day, 'F')} {day.year}"
        return f"{western} ({era})" if era else western
    return f"{wareki(day)}（{day.year}年{day.month}月{day.day}日）"


@register.filter
def era_date(day: date | None) -> str:
    """平成2年4月1日 alone; in English the Western date with the era year."""
    if not day:
        return ""
    if translation.get_language() == "en":
        return date_both(day)
    return wareki(day)


@register.filter
def jst(moment: datetime | None) -> str:
    """A moment in Japan's time (TIME_ZONE), to the minute, in the lists and steps staff read:
    令和8年12月2日 16:21 (和暦, as the pages' dates and headings); 2026-12-02 16:21 JST in English."""
    if not moment:
        return ""
    local = timezone.localtime(moment)
    if translation.get_language() == "en":
        return f"{local:%Y-%m-%d %H:%M} JST"
    return f"{wareki(local.date())} {local:%H:%M}"


@register.filter
def jst_both(moment: datetime | None) -> str:
    """A moment on a sheet the holder keeps: its Japan day as date_both, then the time:
    令和8年4月1日（2026年4月1日） 00:30; in English 1 April 2026 (Reiwa 8) 00:30 JST."""
    if not moment:
        return ""
    local = timezone.localtime(moment)
    suffix = " JST" if translation.get_language() == "en" else ""
    return f"{date_both(local.date())} {local:%H:%M}{suffix}"


@register.filter
def jst_day(moment: datetime | None) -> str:
    """The Japan day of a moment, as date_both: 令和8年4月1日（2026年4月1日）."""
    if not moment:
        return ""
    return date_both(timezone.localtime(moment).date())
