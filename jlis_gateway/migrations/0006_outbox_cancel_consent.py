# The outbox can ask J-LIS to cancel a consent it has not reflected.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('jlis_gateway', '0005_door_indexes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='outboxmessage',
            name='kind',
            field=models.CharField(choices=[('submit_consent', 'Submit consent'), ('revoke_consent', 'Revoke consent'), ('cancel_consent', 'Cancel a consent not yet reflected')], max_length=20, verbose_name='kind'),
        ),
    ]
