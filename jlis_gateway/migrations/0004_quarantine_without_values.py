"""Quarantined events keep no values: the body goes, its hash and the failing paths stay."""

import hashlib
import json

from django.db import migrations, models


def _from_raw(apps, schema_editor):
    QuarantinedEvent = apps.get_model("jlis_gateway", "QuarantinedEvent")
    rows = QuarantinedEvent.objects.using(schema_editor.connection.alias)  # the database being migrated
    for row in rows.exclude(raw="").only("pk", "raw", "reason").iterator():
        try:
            canonical = json.dumps(json.loads(row.raw), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        except ValueError:  # cut at the old length limit: hash what was kept
            canonical = row.raw
        path = row.reason.split(" ", 1)[0] if row.reason else ""
        rows.filter(pk=row.pk).update(
            body_sha256=hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest(),
            paths=["$" if path == "event" else path] if path else [],
        )


class Migration(migrations.Migration):
    dependencies = [("jlis_gateway", "0003_lean_write_indexes")]

    operations = [
        migrations.AddField(
            model_name="quarantinedevent",
            name="paths",
            field=models.JSONField(default=list, verbose_name="fields that failed"),
        ),
        migrations.AddField(
            model_name="quarantinedevent",
            name="body_sha256",
            field=models.CharField(blank=True, max_length=64, verbose_name="SHA-256 of the body"),
        ),
        migrations.AddField(
            model_name="quarantinedevent",
            name="resolved_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="served again and stored"),
        ),
        migrations.RunPython(_from_raw, migrations.RunPython.noop),
        migrations.RemoveField(model_name="quarantinedevent", name="raw"),
    ]
