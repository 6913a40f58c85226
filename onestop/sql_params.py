"""Bulk statements for writers of thousands of rows (the J-LIS applier).

Values go as one JSON text rather than lists: psycopg dumps a list parameter value by value in
Python (~1.5 ms per thousand), `json.dumps` is one C call, and PostgreSQL unpacks the rows
(`json_array_elements`, `e->>0`...) as cheaply as it unnests arrays. Rows come back through
psycopg's own C timestamptz loader: Django's is a Python subclass of it, and a batch reads
hundreds of thousands of times; both give the same aware UTC datetimes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from django.db import connection
from psycopg.types.datetime import TimestamptzLoader


def _iso(value: Any) -> str:
    if isinstance(value, date):  # datetime is a date too
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def json_rows(rows: Iterable[Sequence[Any]]) -> str:
    """Rows for `json_array_elements(%s::json)`; dates and aware datetimes as ISO 8601, which
    PostgreSQL casts back exactly. One C call: only a date costs a call back into Python."""
    return json.dumps(list(rows), default=_iso, ensure_ascii=False, separators=(",", ":"))


def json_values(values: Iterable[Any]) -> str:
    """Keys for `= ANY(ARRAY(SELECT json_array_elements_text(%s::json)))`."""
    return json.dumps(list(values), ensure_ascii=False, separators=(",", ":"))


def any_json_values(sql_type: str) -> str:
    """`= ANY(...)` of keys passed as json_values(keys), cast to `sql_type`."""
    return f"ANY(ARRAY(SELECT json_array_elements_text(%s::json))::{sql_type}[])"


def fetch_rows(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.cursor.adapters.register_loader("timestamptz", TimestamptzLoader)  # psycopg picks its C one
        cursor.execute(sql, params)
        return cursor.fetchall()
