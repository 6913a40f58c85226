from django.db import migrations

from consents.final_status_guard import final_status_guard_install, final_status_guard_remove


def forwards(apps, schema_editor):
    final_status_guard_install(schema_editor.connection)


def backwards(apps, schema_editor):
    final_status_guard_remove(schema_editor.connection)


class Migration(migrations.Migration):
    # R9/R15: an ended consent's status is final (consents/final_status_guard.py).
    dependencies = [("consents", "0005_consent_withdrawal")]
    operations = [migrations.RunPython(forwards, backwards)]
