# R10/R13: the holder sequence the linked serial comes from, so the link only moves forward. A
# record linked before it is taken to be linked as of the data it holds (jlis_seq): the best we
# know of when its serial was named.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('driver_records', '0007_prefecture_follows_the_address'),
    ]

    operations = [
        migrations.AddField(
            model_name='driverrecord',
            name='cert_seq',
            field=models.BigIntegerField(default=0, verbose_name='J-LIS sequence of the linked serial'),
        ),
        migrations.RunSQL(
            "UPDATE driver_records_driverrecord SET cert_seq = jlis_seq WHERE cert_serial <> ''",
            migrations.RunSQL.noop,
        ),
    ]
