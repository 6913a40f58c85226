"""Scratch databases (bench/scratch.py): a benchmark's database is made next to the configured
one and dropped after, and the connection points back where it pointed before."""

from __future__ import annotations

import pytest
from django.db import connection

from bench.scratch import scratch_database
from driver_records.models import DriverRecord


@pytest.mark.django_db(transaction=True)
def test_after_a_scratch_database_the_connection_is_back_on_its_database():
    if connection.vendor != "postgresql":
        pytest.skip("scratch databases are made on PostgreSQL")
    before = connection.settings_dict["NAME"]

    with scratch_database("t1") as first:
        assert first == f"{before}_bench_t1"
        assert DriverRecord.objects.count() == 0  # migrated
    with scratch_database("t2") as second:
        assert second == f"{before}_bench_t2"  # named after the configured database, not the last scratch

    assert connection.settings_dict["NAME"] == before
    assert DriverRecord.objects.count() == 0  # the test database answers again
