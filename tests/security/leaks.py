"""Finding personal data in log records and error reports."""

from __future__ import annotations

import base64
import logging
from datetime import date

from onestop.logging import JsonFormatter, RequestWithoutQueryFilter

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "request_id"}


def log_texts(records: list[logging.LogRecord]) -> list[str]:
    """What a record can carry to a log line: message, arguments, exception and stack, and the
    extras as the project's log handler passes them on (RequestWithoutQueryFilter)."""
    unique = {id(record): record for record in records}.values()
    texts = []
    for record in unique:
        RequestWithoutQueryFilter().filter(record)
        parts = [record.getMessage(), repr(record.args), record.stack_info or ""]
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
        parts += [f"{key}={value!s}" for key, value in vars(record).items() if key not in _STANDARD]
        parts.append(JsonFormatter().format(record))
        texts.append("\n".join(parts))
    return texts


def birthdate_forms(day: date) -> set[str]:
    """The ways a birthdate is written (JPKI's EYYYYMMDD contains YYYYMMDD)."""
    showa = day.year < 1989  # the flows' holders were born in Showa or Heisei
    era, kanji, era_year = ("S", "昭和", day.year - 1925) if showa else ("H", "平成", day.year - 1988)
    return {
        f"{kanji}{era_year}年{day.month}月{day.day}日",
        day.isoformat(),
        day.strftime("%Y%m%d"),
        day.strftime("%Y/%m/%d"),
        day.strftime("%d/%m/%Y"),
        day.strftime("%m/%d/%Y"),
        f"{day.year}年{day.month}月{day.day}日",
        f"{day.year}年{day.month:02d}月{day.day:02d}日",
        f"{era}{era_year}.{day.month}.{day.day}",
        repr(day),
        f"{day.year}, {day.month}, {day.day}",
    }


def certificate_fragments(der: bytes) -> set[str]:
    b64, hexa = base64.b64encode(der).decode(), der.hex()
    return {b64[i : i + 40] for i in range(0, len(b64) - 40, 4)} | {
        hexa[i : i + 40] for i in range(0, len(hexa) - 40, 2)
    }


def leaks(texts: list[str], personal: dict[str, str]) -> list[str]:
    haystack = "\n".join(texts)
    return sorted({f"{what}: {value[:40]!r}" for value, what in personal.items() if value and value in haystack})
