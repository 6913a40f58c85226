"""Heartbeats: when beat last ticked and when a worker last ran a task beat sent."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """One row per component (`beat`, `worker`); holds no personal data."""

    component = models.CharField(_("component"), max_length=32, unique=True)
    at = models.DateTimeField(_("last seen at"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return self.component
