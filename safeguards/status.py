"""Transitional: the two readers not yet switched to the record's own fact (driver_records/feed.py,
jlis_gateway/services/door.py) still import these. R15's suspension is DriverRecord.service_stopped_at
now; delete this module once they read `record.service_stopped` and
`driver_records.selectors.records_service_stopped`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from driver_records.selectors import records_service_stopped

if TYPE_CHECKING:
    from driver_records.models import DriverRecord


def records_suspended(record_ids: Iterable[int]) -> set[int]:
    return records_service_stopped(record_ids)


def record_suspended(record: DriverRecord) -> bool:
    return record.service_stopped
