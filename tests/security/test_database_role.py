"""The database role docs/security.md prescribes for the application: it works the application,
adds to the audit trail, and can neither change nor empty the trail nor change the schema."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction

from driver_records.services import record_update
from onestop.audit import AuditEntry, audit_log
from onestop.models import AuditEvent
from tests.factories import DriverRecordFactory

ROOT = Path(__file__).resolve().parents[2]
APP_ROLE = f"onestop_app_test_{os.getpid()}"  # roles are per cluster: one per test process

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def grants_block() -> str:
    document = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- app-role-grants:start -->\n```sql\n(.*?)```", document, re.S)
    assert block, "docs/security.md has no app-role-grants block"
    return block.group(1)


def refused(sql: str) -> str:
    """The error PostgreSQL gives the application role for `sql` (inside a savepoint)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    except DatabaseError as exc:
        return str(exc)
    return ""


def test_the_application_role_appends_to_the_audit_trail_and_nothing_more(clerk):
    record = DriverRecordFactory()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {APP_ROLE} NOLOGIN")  # rolled back with the test
        owner = connection.settings_dict["USER"] or cursor.connection.info.user
        sql = grants_block().replace("onestop_owner", f'"{owner}"').replace("onestop_app", APP_ROLE)
        cursor.execute(sql)
        cursor.execute(f"SET ROLE {APP_ROLE}")
    try:
        # The application works: a service changes a record and writes its audit row.
        record_update(
            record_id=record.pk,
            expected_version=record.version,
            changes={"holding_status": "licence_both"},
            actor=clerk,
        )
        with transaction.atomic():
            audit_log(AuditEntry(action="test.role", subject_type="test", subject_id="1", actor=clerk))
        assert AuditEvent.objects.filter(action="test.role").exists()
        # The privilege check refuses before the append-only trigger is reached.
        for statement in (
            "UPDATE onestop_auditevent SET action = 'x'",
            "DELETE FROM onestop_auditevent",
            "TRUNCATE onestop_auditevent",
        ):
            assert "permission denied for table onestop_auditevent" in refused(statement), statement
        assert "permission denied for schema public" in refused("CREATE TABLE intruder (id int)")
        assert "must be owner" in refused("ALTER TABLE onestop_auditevent DISABLE TRIGGER ALL")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
