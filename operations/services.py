"""Writes of the operations app: heartbeats."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from .models import Heartbeat

BEAT = "beat"
WORKER = "worker"


def heartbeat_record(*, component: str, at: datetime | None = None) -> None:
    """Note that a component is alive. One row per component, overwritten: no history to keep."""
    Heartbeat.objects.update_or_create(component=component, defaults={"at": at or timezone.now()})
