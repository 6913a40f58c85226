"""docker-compose's two database roles, made by the very script its postgres service runs
(deploy/postgres/init-roles.sh) on the local PostgreSQL: `migrate` as the owner, the application
as its own role. The application works and cannot rewrite the audit trail nor lift a guard; what
the owner rewrites, audit_verify catches against the checkpoints."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.postgres]


@dataclass(frozen=True)
class Deployment:
    database: str
    owner: str
    app: str
    host: str
    port: str
    env: dict[str, str]  # for manage.py, whichever role

    def url(self, role: str) -> str:
        return f"postgresql://{role}:pw-{role}@{self.host}:{self.port}/{self.database}"

    def connect(self, role: str) -> psycopg.Connection:
        return psycopg.connect(self.url(role), autocommit=True)

    def manage(self, role: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, "DATABASE_URL": self.url(role)},
            capture_output=True,
            text=True,
            check=False,
        )


def _superuser() -> psycopg.Connection:
    db = settings.DATABASES["default"]
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"] or None, dbname="postgres",
        autocommit=True,
    )  # fmt: skip


@pytest.fixture
def deployment(tmp_path: Path, audit_signing_key_file: Path) -> Iterator[Deployment]:
    if shutil.which("psql") is None:
        pytest.skip("psql (PostgreSQL's client) is not installed: the postgres image's init script needs it")
    db = settings.DATABASES["default"]
    suffix = os.getpid()
    made = Deployment(
        database=f"test_onestop_roles_{suffix}",
        owner=f"onestop_owner_ci_{suffix}",
        app=f"onestop_app_ci_{suffix}",
        host=db["HOST"] or "127.0.0.1",
        port=str(db["PORT"] or 5432),
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "ONESTOP_AUDIT_"))},
            "ONESTOP_ENV": "test",
            "ONESTOP_AUDIT_SIGNING_KEY_FILE": str(audit_signing_key_file),
            "ONESTOP_AUDIT_CHECKPOINT_FILE": str(tmp_path / "checkpoints.jsonl"),
        },
    )
    _drop(made)
    script_env = {
        **os.environ,
        "PGHOST": made.host,
        "PGPORT": made.port,
        "POSTGRES_USER": db["USER"] or os.environ.get("USER", "postgres"),
        "POSTGRES_DB": "postgres",
        "ONESTOP_DB_NAME": made.database,
        "ONESTOP_DB_OWNER": made.owner,
        "ONESTOP_DB_APP": made.app,
        "ONESTOP_DB_OWNER_PASSWORD": f"pw-{made.owner}",
        "ONESTOP_DB_APP_PASSWORD": f"pw-{made.app}",
    }
    init = subprocess.run(
        ["sh", "deploy/postgres/init-roles.sh"], cwd=ROOT, env=script_env, capture_output=True, text=True, check=False
    )
    try:
        assert init.returncode == 0, init.stderr
        migrate = made.manage(made.owner, "migrate", "--noinput")
        assert migrate.returncode == 0, migrate.stderr[-3000:]
        yield made
    finally:
        _drop(made)


def _drop(made: Deployment) -> None:
    with _superuser() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{made.database}" WITH (FORCE)')
        connection.execute(f'DROP ROLE IF EXISTS "{made.app}"')
        connection.execute(f'DROP ROLE IF EXISTS "{made.owner}"')


def _refusal(connection: psycopg.Connection, sql: str) -> str:
    try:
        connection.execute(sql)
    except psycopg.Error as exc:
        return str(exc)
    return ""


APPEND_AND_CHECKPOINT = """
from django.db import transaction
from onestop.audit import AuditEntry, audit_log
from onestop.audit_checkpoints import audit_checkpoint_write
for n in range(5):
    with transaction.atomic():
        audit_log(AuditEntry(action="record.update", subject_type="t", subject_id=str(n)))
print("checkpoint", audit_checkpoint_write().seq)
"""


def test_finding4_the_compose_roles_keep_the_audit_trail_append_only(deployment):
    app, owner = deployment.app, deployment.owner
    with deployment.connect(app) as connection:
        is_super = connection.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
        assert is_super == (False,)
    # The application works as its role: it appends to the trail, signs a checkpoint, verifies.
    appended = deployment.manage(app, "shell", "-c", APPEND_AND_CHECKPOINT)
    assert appended.returncode == 0 and "checkpoint 5" in appended.stdout, appended.stderr[-3000:]
    verified = deployment.manage(app, "audit_verify")
    assert verified.returncode == 0 and "audit chain intact: 5 rows, matching 1 checkpoints" in verified.stdout

    with deployment.connect(app) as connection:
        for sql in (
            "UPDATE onestop_auditevent SET action = 'forged'",
            "DELETE FROM onestop_auditevent",
            "TRUNCATE onestop_auditevent",
            "UPDATE onestop_auditlink SET row_hash = 'forged'",
            "DELETE FROM onestop_auditlink",
            "TRUNCATE onestop_auditlink",
            "DELETE FROM onestop_auditchainhead",
            "TRUNCATE onestop_auditchainhead",
        ):
            assert "permission denied for table" in _refusal(connection, sql), sql
        back = "UPDATE onestop_auditchainhead SET last_seq = 0, last_hash = repeat('0', 64)"
        assert "moves only forward along the chain" in _refusal(connection, back)
        assert "permission denied to set parameter" in _refusal(connection, "SET session_replication_role = replica")
        assert "must be owner" in _refusal(connection, "ALTER TABLE onestop_auditevent DISABLE TRIGGER USER")
        assert "permission denied for schema public" in _refusal(connection, "CREATE TABLE intruder (id int)")
        assert "permission denied to create temporary tables" in _refusal(connection, "CREATE TEMP TABLE t (id int)")

    with deployment.connect(owner) as connection:
        # The owner is no superuser: the old session switch does not empty the trail ...
        connection.execute("SET onestop.audit_truncate_allowed = on")
        assert "append-only: TRUNCATE refused" in _refusal(connection, "TRUNCATE onestop_auditevent")
        # ... and what it rewrites with the triggers off, the checkpoint gives away.
        with connection.transaction():
            for table in ("onestop_auditevent", "onestop_auditlink", "onestop_auditchainhead"):
                connection.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            connection.execute(
                "DELETE FROM onestop_auditevent WHERE id IN (SELECT event_id FROM onestop_auditlink WHERE seq >= 4)"
            )
            connection.execute("DELETE FROM onestop_auditlink WHERE seq >= 4")
            connection.execute(
                "UPDATE onestop_auditchainhead SET (last_seq, last_hash) ="
                " (SELECT seq, row_hash FROM onestop_auditlink WHERE seq = 3)"
            )
            for table in ("onestop_auditevent", "onestop_auditlink", "onestop_auditchainhead"):
                connection.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    verified = deployment.manage(app, "audit_verify")
    assert verified.returncode == 1
    assert "audit chain broken at row seq=4: missing" in verified.stderr
