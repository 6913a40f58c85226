"""Triggers kept in the database whatever the engine: each guard gives its PostgreSQL statements
and its SQLite ones, and runs the set for the connection's engine (both are idempotent)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.backends.base.base import BaseDatabaseWrapper


def trigger_statements_run(connection: BaseDatabaseWrapper, *, postgres: str, sqlite: Sequence[str]) -> None:
    """PostgreSQL takes its statements as one text; SQLite one statement a call."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(postgres)
        elif connection.vendor == "sqlite":
            for statement in sqlite:
                cursor.execute(statement)
