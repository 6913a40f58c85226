"""Beat's own heartbeat: the scheduler notes its ticks (every HEALTH_HEARTBEAT_SECONDS / 2) so that an
operator sees when beat last ran, apart from whether a worker ran what it sent. And the J-LIS
poll runs as beat starts: an interval entry first runs one interval after beat starts (180 s
by default), and until a poll has run readiness says the poll is failing ("never")."""

from __future__ import annotations

import logging
import time
from typing import Any

from celery.beat import PersistentScheduler
from django.conf import settings
from django.db import DatabaseError, close_old_connections

from .services import BEAT, heartbeat_record

logger = logging.getLogger(__name__)

# Entries of CELERY_BEAT_SCHEDULE sent at beat's first tick, then at their interval.
RUN_AT_START = ("jlis-poll",)


class HeartbeatScheduler(PersistentScheduler):
    """Celery's default scheduler (schedule kept on disk) that also records beat's heartbeat."""

    _recorded_at = 0.0

    def setup_schedule(self) -> None:
        super().setup_schedule()
        for name in RUN_AT_START:
            entry = self.schedule.get(name)
            run_every = getattr(entry.schedule, "run_every", None) if entry else None
            if entry is not None and run_every is not None:
                # Last run one interval ago: due at the first tick (the poll's lease keeps a
                # restart's poll from overlapping one still running).
                entry.last_run_at = entry.default_now() - run_every

    def tick(self, *args: Any, **kwargs: Any) -> float:
        interval = super().tick(*args, **kwargs)
        every = settings.HEALTH_HEARTBEAT_SECONDS / 2  # well inside HEALTH_BEAT_MAX_AGE_SECONDS
        now = time.monotonic()
        if now - self._recorded_at >= every:
            self._recorded_at = now
            try:
                close_old_connections()  # beat lives for months: never reuse a dead connection
                heartbeat_record(component=BEAT)
            except DatabaseError as exc:  # the health check reports it; beat goes on scheduling
                logger.warning("beat heartbeat not recorded (%s)", type(exc).__name__)
        return min(interval, every)
