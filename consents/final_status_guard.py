"""R9, R6, R15 in the database: a consent that has ended stays ended, whatever writes it (the
services, the admin, a shell's save(), a QuerySet.update(), raw SQL). Revoked, superseded,
expired, rejected, withdrawn and suspended are final: after them nothing more is applied, and
the applier and the door read a consent's status to decide (a suspended consent set back to
active would restart the feed of a holder the service was stopped for). The services move a
consent only out of pending or active (consents/services), but for one: a withdrawn consent
J-LIS had reflected before the cancel reached it becomes a revocation (R9,
services/withdrawal.py::consent_withdrawal_refused). This refuses any other move.

PostgreSQL: a BEFORE UPDATE trigger (migration 0006). SQLite (`make run`'s embedded default): the
same check as a trigger of its own, put back after every migrate (apps.py), since Django rebuilds
a SQLite table, dropping its triggers, for some schema changes.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

from onestop.db_triggers import trigger_statements_run

from .models import ConsentStatus

FINAL = (
    ConsentStatus.SUPERSEDED,
    ConsentStatus.REVOKED,
    ConsentStatus.EXPIRED,
    ConsentStatus.REJECTED,
    ConsentStatus.SUSPENDED,
    ConsentStatus.WITHDRAWN,
)
_FINAL_SQL = ", ".join(f"'{status.value}'" for status in FINAL)
_WITHDRAWN_TO_REVOKED = (
    f"(OLD.status = '{ConsentStatus.WITHDRAWN.value}' AND NEW.status = '{ConsentStatus.REVOKED.value}')"
)
_MESSAGE = "R9/R15: an ended consent stays ended (its status is final)"

POSTGRES = f"""
CREATE OR REPLACE FUNCTION consents_final_status() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RAISE EXCEPTION '{_MESSAGE}' USING ERRCODE = 'check_violation';
END $$;
DROP TRIGGER IF EXISTS consents_final_status ON consents_consent;
CREATE TRIGGER consents_final_status
  BEFORE UPDATE OF status ON consents_consent FOR EACH ROW
  WHEN (OLD.status IN ({_FINAL_SQL}) AND NEW.status IS DISTINCT FROM OLD.status AND NOT {_WITHDRAWN_TO_REVOKED})
  EXECUTE FUNCTION consents_final_status();
"""
POSTGRES_DROP = """
DROP TRIGGER IF EXISTS consents_final_status ON consents_consent;
DROP FUNCTION IF EXISTS consents_final_status();
"""
SQLITE = f"""
CREATE TRIGGER IF NOT EXISTS consents_final_status
BEFORE UPDATE OF status ON consents_consent
WHEN OLD.status IN ({_FINAL_SQL}) AND NEW.status IS NOT OLD.status AND NOT {_WITHDRAWN_TO_REVOKED}
BEGIN
  SELECT RAISE(ABORT, '{_MESSAGE}');
END
"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS consents_final_status"


def final_status_guard_install(connection: BaseDatabaseWrapper) -> None:
    """Install (or put back) the trigger; idempotent."""
    trigger_statements_run(connection, postgres=POSTGRES, sqlite=[SQLITE])


def final_status_guard_remove(connection: BaseDatabaseWrapper) -> None:
    trigger_statements_run(connection, postgres=POSTGRES_DROP, sqlite=[SQLITE_DROP])
