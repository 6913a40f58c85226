"""The benchmarks' bulk writers (bench/population.py) write rows the application accepts.

They insert by SQL and COPY, past the ORM's Python-side defaults: a column added to a model
without a database default breaks `make bench` unless its writers name it. Run at a few rows.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from applier.batch import events_apply_pending
from bench.population import (
    SERIAL_BASE,
    events_copy,
    latest_info_events,
    records_create,
    simulator_holders_create,
)
from consents.models import Consent, ConsentStatus
from driver_records.models import DriverRecord
from jlis_gateway.models import EventStatus, JlisEvent

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the bench writes with PostgreSQL's COPY and OVERRIDING SYSTEM VALUE")


def test_b1s_records_and_events_load_and_every_event_is_applied_or_skipped():
    now = timezone.now()
    records_create(count=120, linked=100, now=now)
    events = latest_info_events(
        holders=range(1, 61), count=80, now=now, seed=1, prefix="t", serial_start=2 * SERIAL_BASE
    )
    assert events_copy(events) == 80

    result = events_apply_pending(batch_size=25)

    assert DriverRecord.objects.count() == 120
    assert result.waiting == 0 and result.applied + result.skipped == 80
    assert result.applied > 0
    assert not JlisEvent.objects.filter(status=EventStatus.PENDING).exists()


def test_b2s_simulator_holders_get_a_linked_record_and_an_active_consent():
    from datetime import date

    holders = [
        {"name": "試験　一郎", "birth_date": date(1980, 1, 2), "address": "東京都千代田区霞が関２丁目１番２号",
         "serial": f"{SERIAL_BASE + n}", "items": ["name", "address"], "consent_id": f"jc-{n}"}
        for n in range(5)
    ]  # fmt: skip
    simulator_holders_create(holders, first_id=1000, now=timezone.now())

    records = DriverRecord.objects.filter(pk__gte=1000)
    assert records.count() == 5
    assert Consent.objects.filter(record__in=records, status=ConsentStatus.ACTIVE).count() == 5


def test_b1s_size_line_reads_every_growing_table():
    from bench.table_sizes import TABLES, bytes_per_row

    now = timezone.now()
    records_create(count=120, linked=100, now=now)
    events_copy(
        latest_info_events(holders=range(1, 61), count=80, now=now, seed=1, prefix="t", serial_start=2 * SERIAL_BASE)
    )
    events_apply_pending(batch_size=25)

    sizes = bytes_per_row()

    assert set(sizes) == {name for name, _ in TABLES}  # each table exists and has rows after an apply
    assert all(per_row > 0 for _, per_row in sizes.values())
