from django.db import migrations, models
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce

# The events that give a consent its place in J-LIS's order (R6): the one that reflected it, or,
# for a consent given through Mynaportal, the one that registered it.
TAKING_EFFECT = ("consent_reflected", "consent_registered")


def backfill(apps, schema_editor):
    """A consent J-LIS already reflected takes the holder sequence of the event that did it."""
    Consent = apps.get_model("consents", "Consent")
    JlisEvent = apps.get_model("jlis_gateway", "JlisEvent")
    db = schema_editor.connection.alias  # the database being migrated, not always the default
    seq = (
        JlisEvent.objects.using(db).filter(jlis_consent_id=OuterRef("jlis_consent_id"), kind__in=TAKING_EFFECT, status="applied")
        .order_by("-holder_seq")
        .values("holder_seq")[:1]
    )
    Consent.objects.using(db).filter(consent_date__isnull=False).exclude(jlis_consent_id="").update(
        jlis_seq=Coalesce(Subquery(seq), 0)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("consents", "0003_consent_terminals_and_refusals"),
        ("jlis_gateway", "0003_lean_write_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="consent",
            name="jlis_seq",
            field=models.BigIntegerField(default=0, verbose_name="J-LIS order"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
