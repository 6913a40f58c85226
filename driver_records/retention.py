"""How long a record's history is kept (docs/personal-data.md, "How long things are kept").

A change is kept RETAIN_HISTORY_DAYS from the Japan day it was made: by then the consent it
was made under has ended (R5), and with it what a disclosure request (R16) or an audit asks
about it. The record itself is the police's and stays.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from .models import RecordChange


def history_purge(*, before: datetime, batch_rows: int) -> int:
    """Delete the changes made before `before`, a batch per short transaction; the number deleted.

    Also forgets which serials a record was linked to before (R13): ten years on, a certificate
    that old has long expired, and an event naming it would be held as naming an unknown serial.
    """
    deleted = 0
    while True:
        # changed_at is indexed: each batch is found without a scan.
        ids = list(RecordChange.objects.filter(changed_at__lt=before).values_list("pk", flat=True)[:batch_rows])
        if not ids:
            return deleted
        with transaction.atomic():
            deleted += RecordChange.objects.filter(pk__in=ids, changed_at__lt=before).delete()[0]
