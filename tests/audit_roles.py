"""Acting on the audit tables as their owner or as the application's role, with raw SQL, inside
the test's transaction (roles and grants made here are rolled back with it)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DatabaseError, connection, transaction

AUDIT_TABLES = ("onestop_auditevent", "onestop_auditlink", "onestop_auditchainhead")


def owner_role_make() -> str:
    """A role that is not a superuser and owns the audit tables, as a deployment's owner does."""
    name = f"onestop_owner_test_{os.getpid()}"
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred checks pending for ALTER TABLE
        cursor.execute(f"CREATE ROLE {name} NOLOGIN NOSUPERUSER")
        for table in AUDIT_TABLES:
            cursor.execute(f"ALTER TABLE {table} OWNER TO {name}")
    return name


@contextmanager
def acting_as(role: str) -> Iterator[None]:
    """SET ROLE for the block; the savepoint takes it back, even after an error."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"SET ROLE {role}")
        try:
            yield
        finally:
            if not connection.needs_rollback:
                cursor.execute("RESET ROLE")


def run(sql: str, params: list[object] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def refusal(sql: str, params: list[object] | None = None) -> str:
    """The error PostgreSQL gives for `sql` (inside a savepoint), or "" when it was done."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError as exc:
        return str(exc)
    return ""
