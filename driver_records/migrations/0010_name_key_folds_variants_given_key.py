"""The search key folds variant kanji and keeps the given name (normalise.name_search_key); the
database derives given_key from it; birthdates are indexed for a search by name and birthdate.

The keys are recomputed with today's name_search_key: a key is only ever what that function
says now (a later change of the function comes with a migration like this one). The given-name
index is in code point order ("C") on PostgreSQL for the same reason as 0005's.
"""

import django.db.models.expressions
import django.db.models.functions.text
from django.db import migrations, models

GIVEN_INDEX = "record_given_search_idx"


def keys_recompute(apps, schema_editor):
    from driver_records.normalise import name_search_key

    DriverRecord = apps.get_model("driver_records", "DriverRecord")
    records = DriverRecord.objects.db_manager(schema_editor.connection.alias)  # the database being migrated
    rows = records.only("pk", "name", "name_key").order_by("pk")
    batch = []
    for record in rows.iterator(chunk_size=2000):
        key = name_search_key(record.name)
        if key != record.name_key:
            record.name_key = key
            batch.append(record)
        if len(batch) >= 2000:
            records.bulk_update(batch, ["name_key"])
            batch = []
    records.bulk_update(batch, ["name_key"])


def given_index_create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f'CREATE INDEX {GIVEN_INDEX} ON driver_records_driverrecord ((given_key COLLATE "C"), number)'
        )


def given_index_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {GIVEN_INDEX}")


class Migration(migrations.Migration):
    dependencies = [("driver_records", "0009_r12_feed_stop_guard")]

    operations = [
        migrations.AlterField(
            model_name="driverrecord",
            name="name_key",
            field=models.CharField(db_index=True, editable=False, max_length=255, verbose_name="search key"),
        ),
        migrations.RunPython(keys_recompute, migrations.RunPython.noop),
        migrations.AddField(
            model_name="driverrecord",
            name="given_key",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.text.Substr(
                    "name_key",
                    django.db.models.expressions.CombinedExpression(
                        django.db.models.functions.text.StrIndex("name_key", models.Value(" ")),
                        "+",
                        models.Value(1),
                    ),
                ),
                output_field=models.CharField(max_length=255),
                verbose_name="given-name search key",
            ),
        ),
        migrations.AddIndex(
            model_name="driverrecord",
            index=models.Index(fields=["birth_date"], name="record_birth_date_idx"),
        ),
        migrations.RunPython(given_index_create, given_index_drop),
    ]
