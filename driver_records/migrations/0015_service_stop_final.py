from django.db import migrations

from driver_records.service_stop_guard import service_stop_guard_install, service_stop_guard_remove


def forwards(apps, schema_editor):
    service_stop_guard_install(schema_editor.connection)


def backwards(apps, schema_editor):
    service_stop_guard_remove(schema_editor.connection)


class Migration(migrations.Migration):
    # R15: a record's service_stopped_at, once set, is final (driver_records/service_stop_guard.py).
    dependencies = [("driver_records", "0014_lean_unique_indexes")]
    operations = [migrations.RunPython(forwards, backwards)]
