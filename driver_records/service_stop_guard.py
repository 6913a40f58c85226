"""R15 in the database: a record's `service_stopped_at`, once set (a confirmed suspension), is
final whatever writes the row (the admin, a shell's save() or update(), raw SQL): clearing or
changing it is refused. There is no "lift" (docs/defensive-measures.md); the service sets it once
(services.record_service_stop).

PostgreSQL: a BEFORE UPDATE trigger (migration 0015). SQLite (`make run`'s embedded default): a
trigger of its own, put back after every migrate (apps.py), as R12's guard is."""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

from onestop.db_triggers import trigger_statements_run

_MESSAGE = "R15: a stopped service is final (service_stopped_at changed)"

POSTGRES = f"""
CREATE OR REPLACE FUNCTION driver_records_r15_service_stop() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RAISE EXCEPTION '{_MESSAGE}' USING ERRCODE = 'check_violation';
END $$;
DROP TRIGGER IF EXISTS driver_records_r15_service_stop ON driver_records_driverrecord;
CREATE TRIGGER driver_records_r15_service_stop
  BEFORE UPDATE OF service_stopped_at ON driver_records_driverrecord FOR EACH ROW
  WHEN (OLD.service_stopped_at IS NOT NULL AND NEW.service_stopped_at IS DISTINCT FROM OLD.service_stopped_at)
  EXECUTE FUNCTION driver_records_r15_service_stop();
"""
POSTGRES_DROP = """
DROP TRIGGER IF EXISTS driver_records_r15_service_stop ON driver_records_driverrecord;
DROP FUNCTION IF EXISTS driver_records_r15_service_stop();
"""
SQLITE = f"""
CREATE TRIGGER IF NOT EXISTS driver_records_r15_service_stop
BEFORE UPDATE OF service_stopped_at ON driver_records_driverrecord
WHEN OLD.service_stopped_at IS NOT NULL AND NEW.service_stopped_at IS NOT OLD.service_stopped_at
BEGIN
  SELECT RAISE(ABORT, '{_MESSAGE}');
END
"""
SQLITE_DROP = "DROP TRIGGER IF EXISTS driver_records_r15_service_stop"


def service_stop_guard_install(connection: BaseDatabaseWrapper) -> None:
    """Install (or put back) the trigger; idempotent."""
    trigger_statements_run(connection, postgres=POSTGRES, sqlite=[SQLITE])


def service_stop_guard_remove(connection: BaseDatabaseWrapper) -> None:
    trigger_statements_run(connection, postgres=POSTGRES_DROP, sqlite=[SQLITE_DROP])
