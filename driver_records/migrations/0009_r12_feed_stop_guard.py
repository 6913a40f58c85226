from django.db import migrations

from driver_records.feed_stop_guard import feed_stop_guard_install, feed_stop_guard_remove


def forwards(apps, schema_editor):
    feed_stop_guard_install(schema_editor.connection)


def backwards(apps, schema_editor):
    feed_stop_guard_remove(schema_editor.connection)


class Migration(migrations.Migration):
    # The trigger reads the record's consents' registration times (R12).
    dependencies = [
        ("driver_records", "0008_record_cert_seq"),
        ("consents", "0004_consent_jlis_order"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
