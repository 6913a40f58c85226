"""The database role docs/security.md prescribes for the application: it works the application,
adds to the audit trail, and can neither change nor empty the trail nor change the schema."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.db import connection, transaction

from driver_records.services import record_update
from onestop.audit import AuditEntry, audit_log, audit_log_many
from onestop.audit_chain import audit_chain_link
from onestop.models import AuditChainHead, AuditEvent
from tests.audit_roles import refusal, run
from tests.factories import DriverRecordFactory

ROOT = Path(__file__).resolve().parents[2]
APP_ROLE = f"onestop_app_test_{os.getpid()}"  # roles are per cluster: one per test process

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def grants_block() -> str:
    document = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- app-role-grants:start -->\n```sql\n(.*?)```", document, re.S)
    assert block, "docs/security.md has no app-role-grants block"
    return block.group(1)


def test_the_application_role_appends_to_the_audit_trail_and_nothing_more(clerk):
    record = DriverRecordFactory()
    as_application_role(clerk)
    try:
        # The application works: a service changes a record and writes its audit row.
        record_update(
            record_id=record.pk,
            expected_version=record.version,
            changes={"holding_status": "licence_both"},
            actor=clerk,
        )
        with transaction.atomic():
            audit_log(AuditEntry(action="record.view", subject_type="test", subject_id="1", actor=clerk))
        assert audit_chain_link() == 2  # the chainer runs as the application too
        assert AuditEvent.objects.get(action="record.view").seq == 2
        # The privilege check refuses before the append-only trigger is reached.
        for table, statement in (
            ("onestop_auditevent", "UPDATE onestop_auditevent SET action = 'x'"),
            ("onestop_auditevent", "DELETE FROM onestop_auditevent"),
            ("onestop_auditevent", "TRUNCATE onestop_auditevent"),
            ("onestop_auditlink", "UPDATE onestop_auditlink SET prev_hash = 'x'"),
            ("onestop_auditlink", "DELETE FROM onestop_auditlink"),
            ("onestop_auditlink", "TRUNCATE onestop_auditlink"),
        ):
            assert f"permission denied for table {table}" in refusal(statement), statement
        assert "permission denied for schema public" in refusal("CREATE TABLE intruder (id int)")
        assert "must be owner" in refusal("ALTER TABLE onestop_auditevent DISABLE TRIGGER ALL")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


def as_application_role(clerk) -> None:
    """SET ROLE to a role granted what docs/security.md grants the application."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {APP_ROLE} NOLOGIN")  # rolled back with the test
        owner = connection.settings_dict["USER"] or cursor.connection.info.user
        sql = grants_block().replace("onestop_owner", f'"{owner}"').replace("onestop_app", APP_ROLE)
        cursor.execute(sql)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"SET ROLE {APP_ROLE}")


def test_finding4_the_application_role_cannot_move_the_chain_head(clerk):
    with transaction.atomic():
        audit_log_many([AuditEntry(action="record.update", subject_type="t", subject_id=str(i)) for i in range(3)])
    audit_chain_link()
    with transaction.atomic():
        waiting = audit_log(AuditEntry(action="record.update", subject_type="t", subject_id="4"))  # not linked yet
    head = AuditChainHead.objects.get(pk=1)
    row2 = AuditEvent.objects.get(seq=2)
    as_application_role(clerk)
    try:
        attempts = {
            "back to the genesis": ("UPDATE onestop_auditchainhead SET last_seq = 0, last_hash = %s", ["0" * 64]),
            "back one row": ("UPDATE onestop_auditchainhead SET last_seq = 2, last_hash = %s", [row2.row_hash]),
            "a forged hash": ("UPDATE onestop_auditchainhead SET last_hash = %s", ["f" * 64]),
            "past the rows": ("UPDATE onestop_auditchainhead SET last_seq = 9, last_hash = %s", ["e" * 64]),
            "another id": ("UPDATE onestop_auditchainhead SET id = 2", []),
            "a second head": (
                "INSERT INTO onestop_auditchainhead (id, last_seq, last_hash) VALUES (2, 0, %s)",
                ["0" * 64],
            ),
        }
        for name, (sql, params) in attempts.items():
            assert "moves only forward along the chain" in refusal(sql, params), name
        assert "permission denied" in refusal("DELETE FROM onestop_auditchainhead")
        assert "permission denied" in refusal("TRUNCATE onestop_auditchainhead")
        # A link appended out of the chain cannot carry the head either.
        run(
            "INSERT INTO onestop_auditlink (seq, event_id, prev_hash, row_hash) VALUES (5, %s, %s, %s)",
            [waiting.pk, "a" * 64, "b" * 64],
        )
        assert "moves only forward" in refusal(
            "UPDATE onestop_auditchainhead SET last_seq = 5, last_hash = %s", ["b" * 64]
        )
        # Nor a temporary table that shadows the links in the guard's queries.
        run("CREATE TEMP TABLE onestop_auditlink (seq bigint, prev_hash text, row_hash text)")
        run(
            "INSERT INTO onestop_auditlink VALUES (4, %s, %s), (5, %s, %s)",
            [head.last_hash, "c" * 64, "c" * 64, "d" * 64],
        )
        assert "moves only forward" in refusal(
            "UPDATE onestop_auditchainhead SET last_seq = 5, last_hash = %s", ["d" * 64]
        )
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    assert AuditChainHead.objects.values_list("last_seq", "last_hash").get(pk=1) == (3, head.last_hash)


def test_finding4_the_application_role_cannot_switch_a_guard_off(clerk):
    with transaction.atomic():
        audit_log(AuditEntry(action="record.update", subject_type="t", subject_id="1"))
    as_application_role(clerk)
    try:
        # Trigger switches are the owner's or a superuser's; no setting of the session lifts a guard.
        assert "permission denied to set parameter" in refusal("SET session_replication_role = replica")
        for table in ("onestop_auditevent", "onestop_auditlink", "onestop_auditchainhead"):
            assert "must be owner" in refusal(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            assert "must be owner" in refusal(f"ALTER TABLE {table} OWNER TO {APP_ROLE}")
        assert "must be owner" in refusal("DROP TRIGGER onestop_auditchainhead_guard ON onestop_auditchainhead")
        replaced = refusal(
            "CREATE OR REPLACE FUNCTION onestop_audit_head_guard() RETURNS trigger LANGUAGE plpgsql"
            " AS $$ BEGIN RETURN NEW; END $$"
        )
        assert "must be owner" in replaced or "permission denied for schema" in replaced
        run("SET onestop.audit_truncate_allowed = on")  # the old switch: anyone may set it, nothing reads it
        assert "permission denied" in refusal("TRUNCATE onestop_auditevent")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
