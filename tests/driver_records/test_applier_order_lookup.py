"""The lookup that keeps a holder's order (jlis_gateway.inbox.serials_pending_first): which
pending event naming a serial comes first in the holder's order, J-LIS's holder sequence then the
order stored (docs/reliability.md, rules (3) and (4)), and that it stays one index probe per
serial when a poll has just stored a backlog (B2: the apply slowed to a quarter)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from applier.batch import _consent_events_first
from jlis_gateway.inbox import serials_announced, serials_pending_first
from jlis_gateway.models import JlisEvent

from .world import holder

pytestmark = pytest.mark.django_db


def _event(event_id: str, serial: str, seq: int, *, status: str = "pending", kind: str = "latest_info") -> JlisEvent:
    now = timezone.now()
    payload = {"old_serial": serial, "new_serial": serial, "address": "東京都"}
    return JlisEvent.objects.create(
        event_id=event_id, kind=kind, holder_seq=seq, serial=serial, occurred_at=now, received_at=now,
        payload=payload, status=status,
    )  # fmt: skip


def test_the_first_pending_event_of_a_serial_is_the_first_in_the_holders_sequence_not_the_first_stored():
    later_in_sequence = _event("ol_1", "7001", 5)
    first_in_sequence = _event("ol_2", "7001", 3)  # reached us after seq 5
    _event("ol_3", "7001", 1, status="applied")  # applied: no longer waited for
    repeat_a, repeat_b = _event("ol_4", "7002", 2), _event("ol_5", "7002", 2)  # one event sent twice
    _event("ol_6", "7003", 1, kind="consent_reflected")  # not latest information
    mine = _event("ol_7", "7004", 1)  # the caller's own
    found = serials_pending_first(serials={"7001", "7002", "7003", "7004"}, excluding=[mine.pk])
    assert found == {"7001": (3, first_in_sequence.pk), "7002": (2, repeat_a.pk)}
    assert later_in_sequence.pk < first_in_sequence.pk and repeat_a.pk < repeat_b.pk


@pytest.mark.postgres
def test_the_order_lookup_probes_the_serial_index_while_the_statistics_count_nothing_pending():
    """A poll that catches up stores thousands of events before the applier runs, and PostgreSQL's
    statistics, taken when none was pending, say none is. Before, the planner then walked every
    pending event by the pending index, comparing each with the batch's thousand serials."""
    now = timezone.now()
    JlisEvent.objects.bulk_create(
        JlisEvent(
            event_id=f"ol_many_{n}", kind="latest_info", holder_seq=1 + n % 3, serial=f"{5_000_000 + n % 10_000}",
            occurred_at=now, received_at=now, payload={}, status="applied",
        )
        for n in range(20_000)
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE jlis_gateway_jlisevent")  # a moment with nothing pending
    JlisEvent.objects.update(status="pending")  # then the poll catches up
    batch = list(JlisEvent.objects.order_by("pk").values_list("pk", "serial")[:1000])
    with CaptureQueriesContext(connection) as captured:
        found = serials_pending_first(serials={s for _, s in batch}, excluding=[pk for pk, _ in batch])
    assert len(found) == 1000  # each serial's other pending event is after the batch
    [query] = captured.captured_queries
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + query["sql"])
        plan = cursor.fetchone()[0][0]["Plan"]

    reads = [n for n in _nodes(plan) if n.get("Relation Name") == "jlis_gateway_jlisevent"]
    assert reads and all(n.get("Index Name") == "jlis_event_serial_idx" for n in reads), reads


def _indexes_read(sql: str, table: str) -> set[str | None]:
    """The indexes PostgreSQL's plan for `sql` reads `table` by (None: the table itself)."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
        plan = cursor.fetchone()[0][0]["Plan"]
    return {n.get("Index Name") for n in _nodes(plan) if n.get("Relation Name") == table}


def _nodes(node: dict[str, Any]) -> Any:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


def _revocations_pending(count: int, start: int) -> list[int]:
    """`count` holders, each with a revocation through Mynaportal pending; their record ids."""
    records = []
    for n in range(start, start + count):
        record = holder(serial=f"RV{n}")
        consent = record.consents.get()
        consent.jlis_consent_id = f"JC-RV{n}"
        consent.save(update_fields=["jlis_consent_id"])
        event = _event(f"rv_{n}", f"RV{n}", 2, kind="consent_revoked")
        event.payload = {"consent_id": f"JC-RV{n}", "channel": "mynaportal"}
        event.jlis_consent_id = f"JC-RV{n}"
        event.save(update_fields=["payload", "jlis_consent_id"])
        records.append(record.pk)
    return records


def test_the_pending_consent_events_are_mapped_to_their_records_in_as_many_queries_however_many():
    """Each batch of latest information asks which records a pending consent event is about (rule
    (5): a revocation before it is not overtaken): a fixed number of queries, not one per event."""
    counts, mapped = [], {}
    for count, start in ((2, 0), (20, 100)):
        records = _revocations_pending(count, start)
        with CaptureQueriesContext(connection) as captured:
            mapped = _consent_events_first()
        counts.append(len(captured.captured_queries))
        assert set(records) <= mapped.keys()
        assert all(mapped[r][0] == 2 for r in records)  # the revocations' holder sequence
    assert counts[0] == counts[1], counts


@pytest.mark.postgres
def test_the_announcement_lookup_probes_its_indexes_while_the_statistics_count_nothing_pending():
    """serials_announced (rule (2)): asked for a batch's unknown serials after a poll stored a
    backlog, it reads the announcements' index and the pending consent events, not every pending
    event."""
    now = timezone.now()
    JlisEvent.objects.bulk_create(
        JlisEvent(
            event_id=f"an_many_{n}", kind="latest_info", holder_seq=1, serial=f"{6_000_000 + n}",
            occurred_at=now, received_at=now, status="applied",
            payload={"old_serial": f"{6_000_000 + n}", "new_serial": f"{6_100_000 + n}"},
        )
        for n in range(20_000)
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE jlis_gateway_jlisevent")
    JlisEvent.objects.update(status="pending")
    unknown = {f"{6_100_000 + n}" for n in range(0, 2_000, 2)} | {f"{6_900_000 + n}" for n in range(500)}
    with CaptureQueriesContext(connection) as captured:
        announced = serials_announced(serials=unknown)
    assert set(announced) == {f"{6_100_000 + n}" for n in range(0, 2_000, 2)}
    for query in captured.captured_queries:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (FORMAT JSON) " + query["sql"])
            plan = cursor.fetchone()[0][0]["Plan"]
        used = {n.get("Index Name") for n in _nodes(plan) if n.get("Relation Name") == "jlis_gateway_jlisevent"}
        assert "jlis_event_pending_idx" not in used and None not in used, (used, query["sql"][:200])


@pytest.mark.postgres
def test_the_records_past_serials_are_read_by_the_records_index_while_the_statistics_count_no_history():
    """serials_before_of (R13: a late event names a past serial): every batch asks for its records'
    past serials while the history grows under statistics taken when it was small. Before, the
    planner then also read the whole past-serials index (every serial ever replaced) and intersected
    it with the records' index, for each batch."""
    from bench.population import records_create
    from driver_records.bulk import serials_before_of
    from driver_records.models import RecordChange

    now = timezone.now()
    records_create(count=20_000, linked=20_000, now=now)

    def history(numbers: range, fields: tuple[str, ...]) -> None:
        RecordChange.objects.bulk_create(
            RecordChange(record_id=1 + n % 20_000, field=field, old_value=f"{n}", new_value=f"{n + 1}",
                         source="jlis", jlis_event_id=f"pb_{n}", changed_at=now)
            for n in numbers for field in fields
        )  # fmt: skip

    history(range(40_000, 42_000), ("address",))
    with connection.cursor() as cursor:  # taken before the season's moves: no serial replaced yet
        cursor.execute("ANALYZE driver_records_recordchange")
    history(range(40_000), ("cert_serial", "address"))
    asked = set(range(1, 20_001, 20))  # a batch's thousand records
    with CaptureQueriesContext(connection) as captured:
        found = serials_before_of(asked)
    assert sorted(found) == sorted((f"{n}", 1 + n % 20_000) for n in range(40_000) if 1 + n % 20_000 in asked)
    [query] = captured.captured_queries
    used = _indexes_read(query["sql"], "driver_records_recordchange")
    assert used == {"driver_records_recordchange_record_id_b268968e"}, used


@pytest.mark.postgres
def test_the_consents_applied_reflections_are_read_by_the_consent_id_index():
    """serials_of_applied_consent_events (rule (3): the serials J-LIS named as a record's holder's
    through its consents) runs for every batch with the consent ids of a thousand records. The
    index is partial on a non-empty id; given the ids as one parameter PostgreSQL could not tell
    that none is empty and read every stored event for each batch."""
    from jlis_gateway.inbox import serials_of_applied_consent_events

    now = timezone.now()
    JlisEvent.objects.bulk_create(
        JlisEvent(
            event_id=f"cr_many_{n}", kind="consent_reflected" if n % 10 == 0 else "latest_info", holder_seq=1,
            serial=f"{7_000_000 + n}", jlis_consent_id=f"JC-{n}" if n % 10 == 0 else "", occurred_at=now,
            received_at=now, payload={}, status="applied",
        )
        for n in range(30_000)
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE jlis_gateway_jlisevent")
    asked = {f"JC-{n}" for n in range(0, 30_000, 30)}  # a thousand, a third of them reflected
    with CaptureQueriesContext(connection) as captured:
        found = serials_of_applied_consent_events(jlis_consent_ids=asked)
    assert found == {f"{7_000_000 + n}": f"JC-{n}" for n in range(0, 30_000, 30) if n % 10 == 0}
    [query] = captured.captured_queries
    used = _indexes_read(query["sql"], "jlis_gateway_jlisevent")
    assert used == {"jlis_event_consent_id_idx"}, used
