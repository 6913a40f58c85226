"""The door's lookup of what stored latest information announces (services/door.py): by serial
whatever the status, with statistics on the serial announced.

The index's condition no longer names the status: with it, PostgreSQL could pick for the lookup
either this index or jlis_event_pending_idx by its statistics of the status, which lag while a poll
catches up (taken when no event was pending, they say none is), and then read every pending event
per page. PostgreSQL keeps no statistics of a partial index's expression: the extended statistics
give it the serials' spread, so each serial is one probe of the index.
"""

import django.db.models.fields.json
from django.db import migrations, models

STATISTICS = "jlis_event_announces_stat"


def statistics_create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE STATISTICS IF NOT EXISTS {STATISTICS} ON ((payload ->> 'new_serial')) FROM jlis_gateway_jlisevent"
        )
        schema_editor.execute("ANALYZE jlis_gateway_jlisevent")


def statistics_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {STATISTICS}")


class Migration(migrations.Migration):
    dependencies = [
        ("jlis_gateway", "0006_outbox_cancel_consent"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="jlisevent", name="jlis_event_announces_idx"),
        migrations.AddIndex(
            model_name="jlisevent",
            index=models.Index(
                django.db.models.fields.json.KeyTextTransform("new_serial", "payload"),
                condition=models.Q(("kind", "latest_info")),
                name="jlis_event_announces_idx",
            ),
        ),
        migrations.RunPython(statistics_create, statistics_drop),
    ]
