"""Whether the service is stopped for a holder (R15): read by the consent and feed code, which
must not import the rest of this app (its report imports them)."""

from __future__ import annotations

from .models import SuspensionRequest, SuspensionStatus


def record_is_suspended(record_id: int) -> bool:
    return SuspensionRequest.objects.filter(record_id=record_id, status=SuspensionStatus.CONFIRMED).exists()
