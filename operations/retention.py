"""The retention run: what is kept no longer than its setting goes (docs/personal-data.md, "How
long things are kept"; docs/operations.md).

Each owning app deletes its own rows (jlis_gateway: events, driver_records: history, onestop:
idempotent answers), a batch per short transaction; this run gives each its cut-off and writes
one audit row with the counts, never what was deleted.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from driver_records.retention import history_purge
from jlis_gateway.services.retention import events_purge
from onestop.audit import AuditEntry, audit_log
from onestop.audit_actions import AuditAction
from onestop.idempotency import idempotency_purge

logger = logging.getLogger(__name__)

JST = ZoneInfo("Asia/Tokyo")  # the service's days are Japan days, whatever the server's zone
ACTION = AuditAction.RETENTION_PURGE
ACTOR = "retention"


def japan_days_cutoff(now: datetime, days: int) -> datetime:
    """The first moment still kept when rows are kept `days` Japan days: a row of Japan day D
    stays to the end of day D + days, so on day T what is older than T - days at 00:00 JST goes."""
    today = now.astimezone(JST).date()
    return datetime.combine(today - timedelta(days=days), time(0), tzinfo=JST)


def retention_enforce(*, now: datetime | None = None) -> dict[str, int]:
    """Delete what has been kept its time; the counts by kind, also kept in the audit trail."""
    now = now or timezone.now()
    batch = settings.RETENTION_BATCH_ROWS
    cutoffs = {
        "jlis_event": japan_days_cutoff(now, settings.RETAIN_JLIS_EVENTS_DAYS),
        "record_change": japan_days_cutoff(now, settings.RETAIN_HISTORY_DAYS),
        "idempotent_request": now - timedelta(hours=settings.RETAIN_IDEMPOTENT_ANSWERS_HOURS),
    }
    counts = {
        "jlis_event": events_purge(before=cutoffs["jlis_event"], batch_rows=batch),
        "record_change": history_purge(before=cutoffs["record_change"], batch_rows=batch),
        "idempotent_request": idempotency_purge(before=cutoffs["idempotent_request"], batch_rows=batch),
    }
    with transaction.atomic():
        audit_log(
            AuditEntry(
                action=ACTION,
                subject_type="retention",
                subject_id=now.astimezone(JST).date().isoformat(),
                actor_label=ACTOR,
                new_values={
                    "deleted": counts,
                    "before": {kind: moment.astimezone(JST).isoformat() for kind, moment in cutoffs.items()},
                },
            )
        )
    logger.info("retention run: deleted %s", counts)
    return counts
