"""B1's floor (bench/write_floor.py) makes again exactly what the applier wrote, and nothing more:
the records as the applier left them, each event's status, reason and payload, a copy of every
history row and of every audit row of the run. A floor that wrote less would bound B1 from below
falsely. The expected rows are those the applier wrote in the same test."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from applier.batch import events_apply_pending
from bench import b1_apply
from bench.population import SERIAL_BASE, events_copy, latest_info_events, records_create
from driver_records.models import DriverRecord, RecordChange
from jlis_gateway.models import JlisEvent
from onestop.audit_actions import AuditAction
from onestop.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)

RECORD_COLUMNS = (
    "id",
    "name",
    "name_key",
    "address",
    "birth_date",
    "cert_serial",
    "cert_not_after",
    "jlis_seq",
    "version",
)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the bench writes with PostgreSQL's COPY and OVERRIDING SYSTEM VALUE")


def _history() -> list[tuple]:
    return sorted(RecordChange.objects.values_list("record_id", "field", "old_value", "new_value", "jlis_event_id"))


def _audit() -> list[tuple]:
    rows = AuditEvent.objects.filter(action=AuditAction.RECORD_APPLY_JLIS)
    return sorted((r.subject_id, r.serial, str(r.old_values), str(r.new_values)) for r in rows)


def test_the_floor_redoes_the_applier_s_records_event_statuses_history_and_audit():
    now = timezone.now()
    holders = range(1, 61)
    records_create(count=120, linked=100, now=now)
    events_copy(
        latest_info_events(
            holders=holders, count=80, now=now, seed=1, prefix=b1_apply.MAIN, serial_start=2 * SERIAL_BASE
        )
    )
    result = events_apply_pending(batch_size=25)
    assert result.applied > 0 and result.skipped > 0  # both kinds of outcome are there to redo
    records = sorted(DriverRecord.objects.values_list(*RECORD_COLUMNS))
    events = sorted(JlisEvent.objects.values_list("id", "status", "reason", "payload"))
    history, audit = _history(), _audit()

    passes, seconds = b1_apply.ceiling_and_floor_measure(holders=holders, applied=result.applied, now=now)

    assert len(passes) == b1_apply.CEILING_PASSES and seconds > 0
    assert sorted(DriverRecord.objects.values_list(*RECORD_COLUMNS)) == records
    assert sorted(JlisEvent.objects.values_list("id", "status", "reason", "payload")) == events
    again = [
        (r, f, old, new, event.removesuffix(".floor"))
        for r, f, old, new, event in _history()
        if event.endswith(".floor")
    ]
    assert sorted(again) == history
    assert len(_history()) == 2 * len(history)
    assert _audit() == sorted(audit + audit)
