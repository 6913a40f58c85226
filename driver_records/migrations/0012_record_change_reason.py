# A change keeps the reason staff gave for it (a holding-status change, R12).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('driver_records', '0011_holding_status_labels_translated'),
    ]

    operations = [
        migrations.AddField(
            model_name='recordchange',
            name='reason',
            field=models.CharField(blank=True, db_default='', default='', max_length=500, verbose_name='reason for the change'),
        ),
    ]
