"""Beat's own heartbeat: the scheduler notes its ticks (every HEALTH_HEARTBEAT_SECONDS / 2) so that an
operator sees when beat last ran, apart from whether a worker ran what it sent."""

from __future__ import annotations

import logging
import time
from typing import Any

from celery.beat import PersistentScheduler
from django.conf import settings
from django.db import DatabaseError, close_old_connections

from .services import BEAT, heartbeat_record

logger = logging.getLogger(__name__)


class HeartbeatScheduler(PersistentScheduler):
    """Celery's default scheduler (schedule kept on disk) that also records beat's heartbeat."""

    _recorded_at = 0.0

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
