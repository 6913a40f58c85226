"""Statistics on what stored latest information announces (payload->>'new_serial').

PostgreSQL keeps no statistics of a partial index's expression, so without these it guessed that
each serial the door looks up is announced by 0.5% of the events: a page's lookup then read every
pending event (a sequential scan, or a merge join along the whole of jlis_event_announces_idx) and
cost enough to be JIT-compiled, and a poll slowed down as the pending events grew. With them, each
serial is one probe of the index.
"""

from django.db import migrations

STATISTICS = "jlis_event_announces_stat"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE STATISTICS IF NOT EXISTS {STATISTICS} ON ((payload ->> 'new_serial')) FROM jlis_gateway_jlisevent"
        )
        schema_editor.execute("ANALYZE jlis_gateway_jlisevent")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {STATISTICS}")


class Migration(migrations.Migration):
    dependencies = [
        ("jlis_gateway", "0006_outbox_cancel_consent"),
    ]

    operations = [migrations.RunPython(create, drop)]
