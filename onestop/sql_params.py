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
from django.db.models import Lookup
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


class AnyOf(Lookup):
    """`field__any_of=values`: what `__in` finds, with the values as one JSON parameter, so the
    statement's text is the same for one value or a thousand. With `__in` each length of list is
    a new statement: Django writes a placeholder a value and psycopg parses the text again in
    Python (client-side binding caches it by text), ~3 ms for a few hundred values, on every page
    the poll stores. PostgreSQL unpacks the values as the applier's statements do (an index
    probe a value); other databases read them with json_each."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        prepared = [field.get_prep_value(value) for value in self.rhs]
        kind = getattr(field, "target_field", field).get_internal_type()  # a foreign key: its target's
        if kind in connection.ops.integer_field_ranges:  # as `__in`: a key out of the column's range finds nothing
            low, high = connection.ops.integer_field_range(kind)
            prepared = [v for v in prepared if (low is None or v >= low) and (high is None or v <= high)]
        values = json_values(prepared)
        if connection.vendor == "postgresql":
            return f"{lhs} = {any_json_values(field.cast_db_type(connection))}", [*lhs_params, values]
        return f"{lhs} IN (SELECT value FROM json_each(%s))", [*lhs_params, values]  # noqa: S608 (a column)
