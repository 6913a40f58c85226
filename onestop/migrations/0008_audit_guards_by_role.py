import importlib

from django.db import migrations

# The audit trail's guards, on PostgreSQL. No session setting turns them off: TRUNCATE is left
# to database superusers (who could switch any trigger off anyway: the test suite resets its
# tables as one), and the chain head moves only forward, onto a row of the chain that links to
# where it was. Each function has a fixed search_path, with pg_temp last: a temporary table
# named like ours cannot stand in for it.
APPEND_ONLY = """
CREATE OR REPLACE FUNCTION onestop_audit_append_only() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, {schema}, pg_temp AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' AND (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION 'the audit trail is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
"""
HEAD_GUARD = """
CREATE FUNCTION onestop_audit_head_guard() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, {schema}, pg_temp AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' AND (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    RETURN NULL;
  ELSIF TG_OP = 'INSERT' THEN
    -- Only the genesis head of an empty trail (the first writer creates it). A writer that
    -- raced another first writer gets the primary key's error, which its get_or_create expects.
    IF NEW.id = 1 AND NEW.last_seq = 0 AND NEW.last_hash = repeat('0', 64)
       AND (NOT EXISTS (SELECT 1 FROM onestop_auditevent)
            OR EXISTS (SELECT 1 FROM onestop_auditchainhead WHERE id = 1)) THEN
      RETURN NEW;
    END IF;
  ELSIF TG_OP = 'UPDATE' THEN
    IF NEW.id = OLD.id AND NEW.last_seq = OLD.last_seq AND NEW.last_hash = OLD.last_hash THEN
      RETURN NEW;
    END IF;
    -- Forward, onto a row with that hash, past rows that start from the old head, none missing.
    IF NEW.id = OLD.id AND NEW.last_seq > OLD.last_seq
       AND EXISTS (SELECT 1 FROM onestop_auditevent WHERE seq = NEW.last_seq AND row_hash = NEW.last_hash)
       AND EXISTS (SELECT 1 FROM onestop_auditevent WHERE seq = OLD.last_seq + 1 AND prev_hash = OLD.last_hash)
       AND (SELECT count(*) FROM onestop_auditevent WHERE seq > OLD.last_seq AND seq <= NEW.last_seq)
           = NEW.last_seq - OLD.last_seq THEN
      RETURN NEW;
    END IF;
  END IF;
  RAISE EXCEPTION 'the audit chain head moves only forward along the chain: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER onestop_auditchainhead_guard
  BEFORE INSERT OR UPDATE OR DELETE ON onestop_auditchainhead FOR EACH ROW EXECUTE FUNCTION onestop_audit_head_guard();
CREATE TRIGGER onestop_auditchainhead_no_truncate
  BEFORE TRUNCATE ON onestop_auditchainhead FOR EACH STATEMENT EXECUTE FUNCTION onestop_audit_head_guard();
"""
DROP_HEAD_GUARD = """
DROP TRIGGER IF EXISTS onestop_auditchainhead_guard ON onestop_auditchainhead;
DROP TRIGGER IF EXISTS onestop_auditchainhead_no_truncate ON onestop_auditchainhead;
DROP FUNCTION IF EXISTS onestop_audit_head_guard();
"""


def _schema(schema_editor) -> str:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT quote_ident(current_schema())")
        return cursor.fetchone()[0]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema = _schema(schema_editor)
        schema_editor.execute(APPEND_ONLY.format(schema=schema), params=None)
        schema_editor.execute(HEAD_GUARD.format(schema=schema), params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_HEAD_GUARD, params=None)
        append_only_0003 = importlib.import_module("onestop.migrations.0003_audit_append_only")
        append_only_0003.backwards(apps, schema_editor)  # 0003's triggers and function, as they were
        append_only_0003.forwards(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("onestop", "0007_idempotent_answer_holders")]
    operations = [migrations.RunPython(forwards, backwards)]
