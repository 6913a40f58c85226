from django.db import migrations

# The application's database role should also lack UPDATE, DELETE and TRUNCATE on this table
# (docs/security.md); the trigger holds even for the table's owner.
CREATE = """
CREATE OR REPLACE FUNCTION onestop_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Only a test database sets this (tests/conftest.py), so its suite can reset between tests.
  IF TG_OP = 'TRUNCATE' AND current_setting('onestop.audit_truncate_allowed', true) = 'on' THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION 'the audit trail is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER onestop_auditevent_append_only
  BEFORE UPDATE OR DELETE ON onestop_auditevent FOR EACH ROW EXECUTE FUNCTION onestop_audit_append_only();
CREATE TRIGGER onestop_auditevent_no_truncate
  BEFORE TRUNCATE ON onestop_auditevent FOR EACH STATEMENT EXECUTE FUNCTION onestop_audit_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS onestop_auditevent_append_only ON onestop_auditevent;
DROP TRIGGER IF EXISTS onestop_auditevent_no_truncate ON onestop_auditevent;
DROP FUNCTION IF EXISTS onestop_audit_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("onestop", "0002_staff_roles")]
    operations = [migrations.RunPython(forwards, backwards)]
