import django.db.models.deletion
from django.db import migrations, models

# The audit trail's links leave its rows for their own append-only table, made by the one chainer
# after the writers' commits (onestop/audit_chain.py; docs/security.md, "The chain"). Each row's
# seq and hashes move to its link unchanged, so the chain verifies as before. On PostgreSQL:
# the links get the trail's append-only triggers, the head's guard follows the links, and a
# trigger queues every inserted row (COPY included) for the chainer.
COPY_LINKS = """
INSERT INTO onestop_auditlink (seq, event_id, prev_hash, row_hash)
SELECT seq, id, prev_hash, row_hash FROM onestop_auditevent
"""
LINKS_APPEND_ONLY = """
CREATE TRIGGER onestop_auditlink_append_only
  BEFORE UPDATE OR DELETE ON onestop_auditlink FOR EACH ROW EXECUTE FUNCTION onestop_audit_append_only();
CREATE TRIGGER onestop_auditlink_no_truncate
  BEFORE TRUNCATE ON onestop_auditlink FOR EACH STATEMENT EXECUTE FUNCTION onestop_audit_append_only();
"""
# As 0008's, with the links in place of the rows: the head moves only forward, onto a link with
# the hash it names, past links that start from the old head's hash, none missing.
HEAD_GUARD = """
CREATE OR REPLACE FUNCTION onestop_audit_head_guard() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, {schema}, pg_temp AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' AND (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    RETURN NULL;
  ELSIF TG_OP = 'INSERT' THEN
    -- Only the genesis head of an unlinked trail (the first chainer creates it). A chainer that
    -- raced another first one gets the primary key's error, which it expects.
    IF NEW.id = 1 AND NEW.last_seq = 0 AND NEW.last_hash = repeat('0', 64)
       AND (NOT EXISTS (SELECT 1 FROM onestop_auditlink)
            OR EXISTS (SELECT 1 FROM onestop_auditchainhead WHERE id = 1)) THEN
      RETURN NEW;
    END IF;
  ELSIF TG_OP = 'UPDATE' THEN
    IF NEW.id = OLD.id AND NEW.last_seq = OLD.last_seq AND NEW.last_hash = OLD.last_hash THEN
      RETURN NEW;
    END IF;
    IF NEW.id = OLD.id AND NEW.last_seq > OLD.last_seq
       AND EXISTS (SELECT 1 FROM onestop_auditlink WHERE seq = NEW.last_seq AND row_hash = NEW.last_hash)
       AND EXISTS (SELECT 1 FROM onestop_auditlink WHERE seq = OLD.last_seq + 1 AND prev_hash = OLD.last_hash)
       AND (SELECT count(*) FROM onestop_auditlink WHERE seq > OLD.last_seq AND seq <= NEW.last_seq)
           = NEW.last_seq - OLD.last_seq THEN
      RETURN NEW;
    END IF;
  END IF;
  RAISE EXCEPTION 'the audit chain head moves only forward along the chain: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
"""
PENDING = """
CREATE FUNCTION onestop_audit_pending_add() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, {schema}, pg_temp AS $$
BEGIN
  INSERT INTO onestop_auditpending (event_id) SELECT id FROM new_rows;
  RETURN NULL;
END $$;
CREATE TRIGGER onestop_auditevent_pending
  AFTER INSERT ON onestop_auditevent REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION onestop_audit_pending_add();
"""


def _schema(schema_editor) -> str:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT quote_ident(current_schema())")
        return cursor.fetchone()[0]


def links_copy(apps, schema_editor):
    schema_editor.execute(COPY_LINKS, params=None)


def guards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema = _schema(schema_editor)
        schema_editor.execute(LINKS_APPEND_ONLY, params=None)
        schema_editor.execute(HEAD_GUARD.format(schema=schema), params=None)
        schema_editor.execute(PENDING.format(schema=schema), params=None)


class Migration(migrations.Migration):
    dependencies = [("onestop", "0010_audit_field_names")]

    operations = [
        migrations.CreateModel(
            name="AuditLink",
            fields=[
                (
                    "seq",
                    models.BigIntegerField(
                        editable=False, primary_key=True, serialize=False, verbose_name="sequence number"
                    ),
                ),
                ("prev_hash", models.CharField(editable=False, max_length=64, verbose_name="previous row's hash")),
                ("row_hash", models.CharField(editable=False, max_length=64, verbose_name="this row's hash")),
                (
                    "event",
                    models.OneToOneField(
                        db_constraint=False,
                        editable=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="link",
                        to="onestop.auditevent",
                    ),
                ),
            ],
            options={"verbose_name": "audit chain link", "verbose_name_plural": "audit chain links"},
        ),
        migrations.CreateModel(
            name="AuditPending",
            fields=[
                (
                    "event",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="onestop.auditevent",
                    ),
                ),
            ],
        ),
        migrations.RunPython(links_copy, migrations.RunPython.noop),
        migrations.RemoveField(model_name="auditevent", name="seq"),
        migrations.RemoveField(model_name="auditevent", name="prev_hash"),
        migrations.RemoveField(model_name="auditevent", name="row_hash"),
        migrations.AlterModelOptions(
            name="auditevent",
            options={"ordering": ["-id"], "verbose_name": "audit event", "verbose_name_plural": "audit events"},
        ),
        migrations.RunPython(guards),
    ]
