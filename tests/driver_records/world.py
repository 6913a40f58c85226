"""A small world for applier tests: card-only holders with consents, and J-LIS events about them."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.utils import timezone

from consents.models import Consent, ConsentStatus, TermsVersion
from driver_records.models import DriverRecord
from jlis_gateway.models import EventKind, JlisEvent
from tests.factories import DriverRecordFactory

_ids = itertools.count(1)
NOT_AFTER = "2031-05-17T14:59:59+00:00"


def terms() -> TermsVersion:
    return TermsVersion.objects.get_or_create(
        version="2025-03", defaults={"effective_date": date(2025, 3, 24), "text": "…"}
    )[0]


def holder(
    *,
    serial: str,
    items: tuple[str, ...] = ("address", "name", "birth_date"),
    status: str = ConsentStatus.ACTIVE,
    holding_status: str = "licence_card_only",
    last_valid_day: date = date(2035, 12, 31),
    **record: Any,
) -> DriverRecord:
    kind = "licence" if holding_status.startswith("licence") else "driving_history"
    rec = DriverRecordFactory(
        kind=kind,
        holding_status=holding_status,
        cert_serial=serial,
        cert_issuer_key_id="ab" * 20,
        cert_not_after=datetime(2030, 5, 17, 14, 59, 59, tzinfo=UTC),
        **record,
    )
    consent_for(rec, items=items, status=status, last_valid_day=last_valid_day)
    return rec


def consent_for(
    record: DriverRecord,
    *,
    items=("address",),
    status=ConsentStatus.ACTIVE,
    last_valid_day=None,
    created_at: datetime | None = None,
) -> Consent:
    n = next(_ids)
    return Consent.objects.create(
        record=record,
        reference=f"T-{n:06d}",
        items=list(items),
        channel="counter",
        terms_version=terms(),
        status=status,
        created_at=created_at or timezone.now() - timedelta(days=30),
        cert_serial=record.cert_serial,
        consent_date=date(2025, 12, 31),
        first_day=date(2026, 1, 1),
        last_valid_day=last_valid_day,
    )


def latest_info(
    *,
    seq: int,
    old: str,
    new: str,
    received_at: datetime | None = None,
    event_id: str | None = None,
    occurred_at: datetime | None = None,
    **items: str,
) -> JlisEvent:
    return JlisEvent.objects.create(
        event_id=event_id or f"ev-{next(_ids)}",
        kind=EventKind.LATEST_INFO,
        holder_seq=seq,
        serial=old,
        occurred_at=occurred_at or timezone.now() - timedelta(minutes=5),
        received_at=received_at or timezone.now(),
        payload={"old_serial": old, "new_serial": new, "not_after": NOT_AFTER, **items},
    )
