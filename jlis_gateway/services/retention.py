"""How long J-LIS's events are kept once done with (docs/personal-data.md, "How long things are kept").

An event is needed until it is applied or skipped; what an applied one changed is then in the
record's history (driver_records.RecordChange). The event stays for RETAIN_JLIS_EVENTS_DAYS more
to look into a question about an update, then goes. An event still waiting is never deleted.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from ..models import EventStatus, JlisEvent


def events_purge(*, before: datetime, batch_rows: int) -> int:
    """Delete the events applied or skipped before `before`; the number deleted.

    There is no index on processed_at (each would cost every applied event a write), so the
    walk goes up the primary key a batch at a time, each batch's DELETE its own short
    transaction. Ids follow the order events were received in, and an event is received before
    it is processed: the walk stops at the first batch reaching an event received at or after
    `before`, past which none can be due.
    """
    deleted, after = 0, 0
    while True:
        rows = list(JlisEvent.objects.filter(pk__gt=after).order_by("pk").values_list("pk", "received_at")[:batch_rows])
        if not rows:
            return deleted
        ids = [pk for pk, _received in rows]
        with transaction.atomic():
            # The status is read again under the DELETE's row locks: an event the applier is
            # taking (locked, still pending) is left alone.
            done = JlisEvent.objects.filter(pk__in=ids, processed_at__lt=before).exclude(status=EventStatus.PENDING)
            deleted += done.delete()[0]
        after = ids[-1]
        if rows[-1][1] >= before:
            return deleted
