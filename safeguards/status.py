"""Whether the service is stopped for a holder (R15): read by the consent and feed code, which
must not import the rest of this app (its report imports them)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .models import SuspensionRequest, SuspensionStatus

if TYPE_CHECKING:
    from driver_records.models import DriverRecord


def record_is_suspended(record_id: int) -> bool:
    return SuspensionRequest.objects.filter(record_id=record_id, status=SuspensionStatus.CONFIRMED).exists()


def records_suspended(record_ids: Iterable[int]) -> set[int]:
    """Which of these records the service is stopped for."""
    ids = set(record_ids)
    if not ids:
        return set()
    rows = SuspensionRequest.objects.filter(record_id__in=ids, status=SuspensionStatus.CONFIRMED)
    return set(rows.values_list("record_id", flat=True))


def record_suspension_requests(record: DriverRecord) -> list[SuspensionRequest]:
    """The record's suspension requests but the rejected ones, read once per record instance:
    the holder page asks in several sections. A suspension loads its record afresh, so no
    instance outlives what it read."""
    cached = getattr(record, "_onestop_suspension_requests", None)
    if cached is None:
        cached = list(SuspensionRequest.objects.filter(record=record).exclude(status=SuspensionStatus.REJECTED))
        record._onestop_suspension_requests = cached  # type: ignore[attr-defined]
    return cached


def record_suspended(record: DriverRecord) -> bool:
    """record_is_suspended, from the requests the record instance read."""
    return any(s.status == SuspensionStatus.CONFIRMED for s in record_suspension_requests(record))
