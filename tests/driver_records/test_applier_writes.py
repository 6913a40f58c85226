"""How a batch's writes reach PostgreSQL: pipelined UPDATEs, COPY, and an asynchronous commit
only where the batch's work can be redone from the stored events."""

import gc

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from applier.batch import events_apply_pending
from driver_records.models import RecordChange
from jlis_gateway.models import EventKind, EventStatus, JlisEvent
from onestop.models import AuditChainHead, AuditEvent

from .world import holder, latest_info

pytestmark = pytest.mark.django_db
NEW_ADDRESS = "東京都府中市多磨町３丁目１番地"
ASYNC_COMMIT = "SET LOCAL synchronous_commit = off"


@pytest.fixture
def refuse_marking(request):
    """A trigger that refuses to mark one event: an error in the middle of the pipelined writes."""
    if connection.vendor != "postgresql":
        pytest.skip("pipelined writes are PostgreSQL's; elsewhere the writes are plain statements")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE FUNCTION test_refuse_marking() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'refused for the test'; END $$;
            CREATE TRIGGER test_refuse_marking BEFORE UPDATE ON jlis_gateway_jlisevent
            FOR EACH ROW WHEN (NEW.event_id = 'ev-refused') EXECUTE FUNCTION test_refuse_marking();
            """
        )
    # Created inside the test's transaction: rolled back with it.


def test_an_error_in_the_pipelined_writes_leaves_nothing_of_the_batch(refuse_marking):
    records = [holder(serial=f"10{n}") for n in range(4)]
    for n in range(3):
        latest_info(seq=1, old=f"10{n}", new=f"20{n}", address=NEW_ADDRESS, event_id=f"ev-{n}")
    latest_info(seq=1, old="103", new="203", address=NEW_ADDRESS, event_id="ev-refused")
    head_before = AuditChainHead.objects.filter(pk=1).values_list("last_seq", flat=True).first()
    with pytest.raises(DatabaseError, match="refused for the test"):
        events_apply_pending()
    assert gc.isenabled()  # paused for the batch only, even one that failed
    for record in records:
        record.refresh_from_db()
        assert record.address != NEW_ADDRESS and record.cert_serial.startswith("10") and record.version == 1
    assert not RecordChange.objects.exists()
    assert not AuditEvent.objects.filter(action="record.apply_jlis").exists()
    assert AuditChainHead.objects.filter(pk=1).values_list("last_seq", flat=True).first() == head_before
    assert set(JlisEvent.objects.values_list("status", flat=True)) == {EventStatus.PENDING}


def test_only_batches_of_latest_information_commit_without_waiting_for_the_disk():
    if connection.vendor != "postgresql":
        pytest.skip("asynchronous commit is PostgreSQL's")
    record = holder(serial="1001")
    latest_info(seq=1, old="1001", new="2002", address=NEW_ADDRESS)
    with CaptureQueriesContext(connection) as latest_only:
        assert events_apply_pending().applied == 1
    assert any(q["sql"] == ASYNC_COMMIT for q in latest_only.captured_queries)

    # A consent event may put a row in the outbox for J-LIS: its batch commits durably.
    latest_info(seq=2, old="2002", new="3003", address="東京都新宿区西新宿二丁目８番１号")
    JlisEvent.objects.create(
        event_id="ce-1", kind=EventKind.CONSENT_REJECTED, holder_seq=3, serial="3003", jlis_consent_id="JC-none",
        occurred_at=timezone.now(), received_at=timezone.now(), payload={"consent_id": "JC-none"},
    )  # fmt: skip
    with CaptureQueriesContext(connection) as mixed:
        events_apply_pending()
    assert not any(q["sql"] == ASYNC_COMMIT for q in mixed.captured_queries)
    record.refresh_from_db()
    assert record.cert_serial == "3003"  # the batch's "latest information" was applied all the same
