"""R12 in the database: whatever writes a record's holding status (the counter's service, the
admin, a shell's plain save(), a QuerySet.update(), raw SQL), leaving マイナ免許証のみ /
マイナ経歴証明書のみ stops the feed for every consent registered until then, and a stop never moves
back (only a new registration restarts the feed).

- `feed_stopped_at` becomes the later of the writer's own value (the counter's service sets it)
  or the statement's time, and the latest registration time among the record's consents: every
  consent registered before the change is covered whatever the clocks of the machines that
  stamped them (the feed compares `consent.created_at <= feed_stopped_at`).
- `holding_status_changed_at` is set when the writer left it as it was.
- Moving `feed_stopped_at` back, or clearing it, is refused.

PostgreSQL: one BEFORE UPDATE trigger, installed by migration 0009. SQLite (`make run`'s
embedded default) cannot change the row in a BEFORE trigger: an AFTER UPDATE trigger writes the
stop; and since Django rebuilds a SQLite table (dropping its triggers) for some schema changes,
the triggers are also put back after every migrate (apps.py).
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

# The card-only statuses are driver_records.models.CARD_ONLY_STATUSES, spelled out in the SQL. The
# function has a fixed search_path, pg_temp last: a temporary table named like the consents table
# cannot stand in for it (as the audit trail's guards, onestop/migrations/0008).
POSTGRES = """
CREATE OR REPLACE FUNCTION driver_records_r12_feed_stop() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, {schema}, pg_temp AS $$
BEGIN
  IF OLD.feed_stopped_at IS NOT NULL
     AND (NEW.feed_stopped_at IS NULL OR NEW.feed_stopped_at < OLD.feed_stopped_at) THEN
    RAISE EXCEPTION 'R12: a stopped feed restarts only with a new registration (feed_stopped_at moved back)'
      USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.holding_status IS DISTINCT FROM OLD.holding_status THEN
    IF NEW.holding_status_changed_at IS NOT DISTINCT FROM OLD.holding_status_changed_at THEN
      NEW.holding_status_changed_at := statement_timestamp();
    END IF;
    IF OLD.holding_status IN ('licence_card_only', 'history_card_only')
       AND NEW.holding_status NOT IN ('licence_card_only', 'history_card_only') THEN
      NEW.feed_stopped_at := GREATEST(
        CASE WHEN NEW.feed_stopped_at IS DISTINCT FROM OLD.feed_stopped_at THEN NEW.feed_stopped_at
             ELSE statement_timestamp() END,
        (SELECT max(created_at) FROM consents_consent WHERE record_id = NEW.id)
      );
    END IF;
  END IF;
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS driver_records_r12_feed_stop ON driver_records_driverrecord;
CREATE TRIGGER driver_records_r12_feed_stop
  BEFORE UPDATE OF holding_status, feed_stopped_at ON driver_records_driverrecord FOR EACH ROW
  WHEN (NEW.holding_status IS DISTINCT FROM OLD.holding_status
        OR NEW.feed_stopped_at IS DISTINCT FROM OLD.feed_stopped_at)
  EXECUTE FUNCTION driver_records_r12_feed_stop();
"""
POSTGRES_DROP = """
DROP TRIGGER IF EXISTS driver_records_r12_feed_stop ON driver_records_driverrecord;
DROP FUNCTION IF EXISTS driver_records_r12_feed_stop();
"""

# Datetimes are text on SQLite ('YYYY-MM-DD HH:MM:SS[.ffffff]', UTC), which sorts in time order;
# strftime's %f gives milliseconds.
SQLITE = [
    """
CREATE TRIGGER IF NOT EXISTS driver_records_r12_feed_stop_forward
BEFORE UPDATE OF feed_stopped_at ON driver_records_driverrecord
WHEN OLD.feed_stopped_at IS NOT NULL AND (NEW.feed_stopped_at IS NULL OR NEW.feed_stopped_at < OLD.feed_stopped_at)
BEGIN
  SELECT RAISE(ABORT, 'R12: a stopped feed restarts only with a new registration (feed_stopped_at moved back)');
END
""",
    """
CREATE TRIGGER IF NOT EXISTS driver_records_r12_feed_stop
AFTER UPDATE OF holding_status ON driver_records_driverrecord
WHEN NEW.holding_status IS NOT OLD.holding_status
BEGIN
  UPDATE driver_records_driverrecord SET holding_status_changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now')
  WHERE id = NEW.id AND NEW.holding_status_changed_at IS OLD.holding_status_changed_at;
  UPDATE driver_records_driverrecord
  SET feed_stopped_at = max(
        CASE WHEN NEW.feed_stopped_at IS NOT OLD.feed_stopped_at THEN NEW.feed_stopped_at
             ELSE strftime('%Y-%m-%d %H:%M:%f', 'now') END,
        coalesce((SELECT max(created_at) FROM consents_consent WHERE record_id = NEW.id), ''))
  WHERE id = NEW.id AND OLD.holding_status IN ('licence_card_only', 'history_card_only')
    AND NEW.holding_status NOT IN ('licence_card_only', 'history_card_only');
END
""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS driver_records_r12_feed_stop",
    "DROP TRIGGER IF EXISTS driver_records_r12_feed_stop_forward",
]


def feed_stop_guard_install(connection: BaseDatabaseWrapper) -> None:
    """Install (or put back) the triggers; each statement is idempotent."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT quote_ident(current_schema())")
            cursor.execute(POSTGRES.format(schema=cursor.fetchone()[0]))
        elif connection.vendor == "sqlite":
            for statement in SQLITE:
                cursor.execute(statement)


def feed_stop_guard_remove(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(POSTGRES_DROP)
        elif connection.vendor == "sqlite":
            for statement in SQLITE_DROP:
                cursor.execute(statement)
