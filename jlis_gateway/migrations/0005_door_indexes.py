"""The door's lookups of what stored events not yet applied announce (services/door.py)."""

import django.db.models.fields.json
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('jlis_gateway', '0004_quarantine_without_values'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='jlisevent',
            index=models.Index(django.db.models.fields.json.KeyTextTransform('new_serial', 'payload'), condition=models.Q(('kind', 'latest_info'), ('status', 'pending')), name='jlis_event_announces_idx'),
        ),
        migrations.AddIndex(
            model_name='jlisevent',
            index=models.Index(condition=models.Q(('status', 'pending'), models.Q(('kind', 'latest_info'), _negated=True)), fields=['id'], name='jlis_event_consent_pending_idx'),
        ),
    ]
