# A pending consent taken by mistake can be withdrawn (status withdrawn, who, when, why).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('consents', '0004_consent_jlis_order'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='consent',
            name='withdrawn_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='withdrawn at'),
        ),
        migrations.AddField(
            model_name='consent',
            name='withdrawn_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='consent',
            name='withdrawn_reason',
            field=models.CharField(blank=True, max_length=500, verbose_name='reason for the withdrawal'),
        ),
        migrations.AlterField(
            model_name='consent',
            name='status',
            field=models.CharField(choices=[('pending', 'Pending (waiting for J-LIS)'), ('active', 'Active'), ('superseded', 'Superseded'), ('revoked', 'Revoked'), ('expired', 'Expired'), ('rejected', 'Rejected by J-LIS'), ('suspended', 'Suspended'), ('withdrawn', 'Withdrawn before J-LIS reflected it')], db_index=True, max_length=12, verbose_name='status'),
        ),
    ]
