"""Applying J-LIS events to driver records (R2, R10-R13): a batch path and a per-event path that
share one decision (decide.py) and must give the same result."""

from .batch import ApplyResult, events_apply_pending
from .decide import Skip
from .single import event_apply, events_apply_one_by_one

__all__ = ["ApplyResult", "Skip", "event_apply", "events_apply_one_by_one", "events_apply_pending"]
