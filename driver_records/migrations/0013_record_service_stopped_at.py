# R15: a confirmed suspension is a fact of the record (service_stopped_at), which the consents,
# the feed and the door read instead of asking the safeguards app. Filled here from the
# suspensions confirmed so far.

from django.db import migrations, models
from django.db.models import Min, OuterRef, Subquery


def service_stops_backfill(apps, schema_editor):
    DriverRecord = apps.get_model("driver_records", "DriverRecord")
    SuspensionRequest = apps.get_model("safeguards", "SuspensionRequest")
    db = schema_editor.connection.alias  # the database being migrated, not always the default
    confirmed = SuspensionRequest.objects.using(db).filter(status="confirmed")
    first = (
        confirmed.filter(record_id=OuterRef("pk"))
        .values("record_id")
        .annotate(at=Min("decided_at"))
        .values("at")
    )
    DriverRecord.objects.using(db).filter(pk__in=confirmed.values("record_id"), service_stopped_at__isnull=True).update(
        service_stopped_at=Subquery(first)
    )


class Migration(migrations.Migration):

    dependencies = [
        ('driver_records', '0012_record_change_reason'),
        ('safeguards', '0001_suspension_and_disclosure_requests'),
    ]

    operations = [
        migrations.AddField(
            model_name='driverrecord',
            name='service_stopped_at',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name='service stopped at'),
        ),
        migrations.RunPython(service_stops_backfill, migrations.RunPython.noop, elidable=True),
    ]
