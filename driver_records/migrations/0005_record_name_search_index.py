"""The holder search by name: an index in code point order ("C"), on PostgreSQL only.

LIKE 'prefix%' can use a btree index as a range only when the index's collation is C (or it
uses pattern ops, which cannot give the ORDER BY). With it the search reads its 50 rows at the
prefix's place in the index, instead of walking the name index from its start when a common
family name matches thousands of records (the planner's estimate). SQLite compares bytes
already (BINARY), so it needs nothing. record_search orders by the same expression.
"""

from django.db import migrations

INDEX = "record_name_search_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX {INDEX} ON driver_records_driverrecord ((name_key COLLATE "C"), number)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("driver_records", "0004_feed_stop_and_old_serial_index")]

    operations = [migrations.RunPython(create, drop)]
