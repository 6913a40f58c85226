"""The counter pages run a fixed number of queries, whatever the holder's history (no N+1), and
the name search reads its rows at the prefix's place in an index (B3 in bench/ times them)."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse, set_script_prefix

from applier.batch import events_apply_pending
from consents.models import ConsentStatus
from driver_records.models import DriverRecord
from driver_records.normalise import name_search_key
from driver_records.selectors import records_by_given_name, records_by_name
from driver_records.templatetags.record_tags import record_url

from .world import consent_for, holder, latest_info

# Queries per page (session, user with office, the second factor's device, roles, the page's
# reads, the audit row for the holder page and the receipt, the session's new expiry). A change
# here is a change of the page's cost: each query is ~1 ms of a page's ~10-20 (B3). The holder
# page reads all of the record's consents once: the governing one (R6), those waiting for J-LIS
# or refused by it, and the earlier ones (revoked, superseded, expired) for the consent history
# (three queries until then). A one-word name search reads family names and given names (two index
# ranges), then the governing consents of the rows shown. Every signed-in page adds one query
# for the J-LIS banner (is the poll or the sending failing: one UNION over the poll row and the
# outbox's pending rows), so that clerks see an outage where they work (issue 18, item 8). The
# audit row is one INSERT: the chain's head is no longer locked and moved by the page (two
# queries fewer since issue 20: the chainer links the row after the commit).
SEARCH_QUERIES = 9
HOLDER_QUERIES = 17
RECEIPT_QUERIES = 8


def _statements(client, url: str) -> int:
    client.get(url)  # the first request of a session may set things up
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return sum(1 for q in captured.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE")))


def _holder_with_history(number: str, *, moves: int, consents: int) -> DriverRecord:
    record = holder(serial=f"S{number}-0", number=number, name="山田　太郎", prefecture="13")
    for _ in range(1, consents):
        consent_for(record, status=ConsentStatus.REVOKED, last_valid_day=date(2035, 1, 1))
    for n in range(moves):
        latest_info(
            seq=n + 1, old=f"S{number}-{n}", new=f"S{number}-{n + 1}", address=f"東京都府中市{n}", name=f"山田　{n}"
        )
    events_apply_pending()
    return record


@pytest.mark.postgres  # SQLite links each audit row in its own transaction: more queries, by design
@pytest.mark.django_db
def test_counter_pages_run_as_many_queries_for_a_long_history_as_for_a_short_one(client, clerk):
    short = _holder_with_history("300000000010", moves=1, consents=1)
    long = _holder_with_history("300000000020", moves=25, consents=4)
    client.force_login(clerk)
    for record in (short, long):
        search = _statements(client, reverse("counter:home") + "?q=山田")
        page = _statements(client, reverse("counter:record", args=[record.pk]))
        receipt = _statements(client, reverse("consents:receipt", args=[record.consents.first().pk]))
        assert (search, page, receipt) == (SEARCH_QUERIES, HOLDER_QUERIES, RECEIPT_QUERIES), record.number


def _plan(queryset) -> str:
    with connection.cursor() as cursor:
        sql, params = queryset.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgres
@pytest.mark.django_db
def test_name_search_reads_the_prefix_as_a_range_of_the_search_index():
    # A common prefix with many holders before it in name order: the planner used to walk the
    # name index from its start (for the ORDER BY), reading them all to find the first match.
    # The given names likewise, in their own index.
    DriverRecord.objects.bulk_create(
        [
            DriverRecord(
                kind="licence", number=f"40{n:010d}", name=name, name_key=name_search_key(name),
                birth_date=date(1980, 1, 1), address="東京都", holding_status="licence_card_only",
            )
            for n, name in enumerate(["佐藤　一郎"] * 4000 + ["山田　太郎"] * 1500 + ["渡辺　花子"] * 1000)
        ]
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE driver_records_driverrecord")
    plan = _plan(records_by_name("山田")[:51])
    assert "record_name_search_idx" in plan and "Index Cond" in plan, plan
    plan = _plan(records_by_given_name("太郎")[:51])
    assert "record_given_search_idx" in plan and "Index Cond" in plan, plan
    assert [r.name for r in records_by_name("山田")[:50]] == ["山田　太郎"] * 50
    assert [r.name for r in records_by_given_name("太郎")[:50]] == ["山田　太郎"] * 50


def test_search_result_links_are_what_reverse_gives_under_any_script_prefix():
    try:
        for prefix in ("/", "/onestop/"):
            set_script_prefix(prefix)
            for record_id in (1, 42, 1234567):
                assert record_url(record_id) == reverse("counter:record", args=[record_id])
    finally:
        set_script_prefix("/")
