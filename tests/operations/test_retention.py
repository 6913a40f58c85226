"""Retention (docs/personal-data.md, "How long things are kept"): J-LIS's events once done with,
the record's history and the answers kept for repeated requests go when their time is up, counted
in Japan days; what is younger, and an event still waiting, stays; each run leaves one audit row
with counts and nothing else; the task runs on a real worker.

Expected cut-offs come from the rule as the document states it: a row of Japan day D is kept
through the end of day D + N (Asia/Tokyo) and deleted by the first run after it.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from driver_records.models import ChangeSource, RecordChange
from jlis_gateway.models import EventKind, EventStatus, JlisEvent
from onestop import retention_defaults
from onestop.audit import audit_chain_verify
from onestop.audit_chain import audit_chain_link
from onestop.models import AuditEvent, IdempotentAnswerHolder, IdempotentRequest
from onestop.personal_data import PERSONAL
from operations.retention import retention_enforce
from operations.tasks import retention
from tests.factories import DriverRecordFactory
from tests.jlis_fixtures import wait_until

JST = ZoneInfo("Asia/Tokyo")
ROOT = Path(__file__).resolve().parents[2]
_ids = itertools.count(1)


def jst(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=JST)


def event(*, processed_at: datetime | None, status: str = EventStatus.APPLIED, received_at=None) -> JlisEvent:
    received = received_at or (processed_at or timezone.now()) - timedelta(minutes=5)
    return JlisEvent.objects.create(
        event_id=f"ret-{next(_ids)}",
        kind=EventKind.LATEST_INFO,
        holder_seq=1,
        serial="RET0001",
        occurred_at=received - timedelta(minutes=5),
        payload={"address": "東京都港区芝公園四丁目２番８号"},
        received_at=received,
        status=status,
        processed_at=processed_at,
    )


def change(record, at: datetime, value: str = "東京都港区芝公園四丁目２番８号") -> RecordChange:
    return RecordChange.objects.create(
        record=record, field="address", old_value="", new_value=value, source=ChangeSource.JLIS, changed_at=at
    )


def answer(created_at: datetime, record_number: str = "") -> IdempotentRequest:
    row = IdempotentRequest.objects.create(
        caller="onestop.user:1", key=f"key-{next(_ids):08d}", fingerprint="0" * 64, created_at=created_at, done=True
    )
    if record_number:
        IdempotentAnswerHolder.objects.create(answer=row, record_number=record_number)
    return row


def remaining(model, rows) -> set[int]:
    return set(model.objects.filter(pk__in=[r.pk for r in rows]).values_list("pk", flat=True))


@pytest.mark.django_db
def test_events_done_with_go_after_90_japan_days_counted_in_tokyo(settings):
    """With 90 days an event applied on 1 April (JST) stays through 30 June and goes on 1 July;
    the two events straddle midnight in Tokyo but fall on the same UTC day (1 April)."""
    settings.RETENTION_BATCH_ROWS = 2  # several batches, and a walk past a waiting event
    assert settings.RETAIN_JLIS_EVENTS_DAYS == 90
    last_of_1_april = event(processed_at=jst(2025, 4, 1, 23, 59, 59))
    skipped_same_day = event(processed_at=jst(2025, 4, 1, 8, 0), status=EventStatus.SKIPPED)
    waiting = event(processed_at=None, status=EventStatus.PENDING, received_at=jst(2025, 1, 1))
    first_of_2_april = event(processed_at=jst(2025, 4, 2, 0, 0, 0))
    late_june = event(processed_at=jst(2025, 6, 30, 12, 0))
    assert last_of_1_april.processed_at.astimezone(ZoneInfo("UTC")).date() == (
        first_of_2_april.processed_at.astimezone(ZoneInfo("UTC")).date()
    )
    everything = [last_of_1_april, skipped_same_day, waiting, first_of_2_april, late_june]

    retention_enforce(now=jst(2025, 6, 30, 23, 59, 59))  # still 30 June in Tokyo: nothing is due
    assert remaining(JlisEvent, everything) == {e.pk for e in everything}

    counts = retention_enforce(now=jst(2025, 7, 1, 3, 30))
    assert remaining(JlisEvent, everything) == {waiting.pk, first_of_2_april.pk, late_june.pk}
    assert counts["jlis_event"] == 2


@pytest.mark.django_db
def test_history_goes_after_ten_years_counted_in_tokyo(settings):
    """3653 Japan days: a change of 1 April 2025 (JST) stays through 2 April 2035 and goes on 3 April."""
    settings.RETENTION_BATCH_ROWS = 2
    assert settings.RETAIN_HISTORY_DAYS == 3653
    record = DriverRecordFactory()
    last_of_1_april = change(record, jst(2025, 4, 1, 23, 59, 59))
    older = [change(record, jst(2025, 3, 31)), change(record, jst(2024, 1, 1))]
    young = [change(record, jst(2025, 4, 2, 0, 0, 0)), change(record, jst(2030, 1, 1))]

    counts = retention_enforce(now=jst(2035, 4, 2, 23, 59, 59))  # still 2 April 2035 in Tokyo
    assert remaining(RecordChange, [last_of_1_april, *older, *young]) == {c.pk for c in [last_of_1_april, *young]}
    assert counts["record_change"] == 2

    counts = retention_enforce(now=jst(2035, 4, 3, 3, 30))
    assert remaining(RecordChange, [last_of_1_april, *young]) == {c.pk for c in young}
    assert counts["record_change"] == 1


@pytest.mark.django_db
def test_answers_kept_for_repeats_go_after_24_hours_with_their_holders(settings):
    assert settings.RETAIN_IDEMPOTENT_ANSWERS_HOURS == 24
    now = jst(2025, 7, 1, 3, 30)
    old = answer(now - timedelta(hours=24, seconds=1), record_number="301234567890")
    young = answer(now - timedelta(hours=23, minutes=59, seconds=59), record_number="301234567891")
    counts = retention_enforce(now=now)
    assert remaining(IdempotentRequest, [old, young]) == {young.pk}
    assert set(IdempotentAnswerHolder.objects.values_list("record_number", flat=True)) == {"301234567891"}
    assert counts["idempotent_request"] == 1


@pytest.mark.django_db
def test_each_run_writes_one_audit_row_with_counts_and_no_personal_data():
    record = DriverRecordFactory(name="退蔵　保存子", address="東京都港区芝公園四丁目２番８号")
    change(record, jst(2010, 1, 1), value=record.address)
    event(processed_at=jst(2020, 1, 1))
    answer(jst(2020, 1, 1), record_number=record.number)
    before = AuditEvent.objects.count()

    retention_enforce(now=jst(2025, 7, 1, 3, 30))
    retention_enforce(now=jst(2025, 7, 2, 3, 30))  # nothing left: still audited

    rows = list(AuditEvent.objects.order_by("id")[before:])
    assert [(r.action, r.actor_label, r.actor_id) for r in rows] == [("retention.purge", "retention", None)] * 2
    first, second = rows
    assert first.new_values["deleted"] == {"jlis_event": 1, "record_change": 1, "idempotent_request": 1}
    assert second.new_values["deleted"] == {"jlis_event": 0, "record_change": 0, "idempotent_request": 0}
    assert first.new_values["before"] == {
        "jlis_event": "2025-04-02T00:00:00+09:00",  # 1 July less 90 days, midnight in Tokyo
        "record_change": "2015-07-01T00:00:00+09:00",  # 1 July 2025 less 3653 days
        "idempotent_request": "2025-06-30T03:30:00+09:00",
    }
    facts = (first.subject_type, first.subject_id, first.record_number, first.serial)
    assert facts == ("retention", "2025-07-01", "", "")
    written = json.dumps([first.old_values, first.new_values], ensure_ascii=False)
    for personal in (record.name, record.address, record.number, "RET0001"):
        assert personal not in written
    audit_chain_link()  # as the chainer does after the commits
    assert audit_chain_verify() is None


def test_the_map_says_what_the_settings_say():
    """docs/personal-data.md (written from the map) quotes each setting's name and its value."""
    assert django_settings.RETAIN_JLIS_EVENTS_DAYS == retention_defaults.JLIS_EVENTS_DAYS  # no override under test
    expectations = {
        "jlis_gateway.jlisevent.payload": ("ONESTOP_RETAIN_JLIS_EVENTS_DAYS", django_settings.RETAIN_JLIS_EVENTS_DAYS),
        "jlis_gateway.jlisevent.serial": ("ONESTOP_RETAIN_JLIS_EVENTS_DAYS", django_settings.RETAIN_JLIS_EVENTS_DAYS),
        "driver_records.recordchange.old_value": ("ONESTOP_RETAIN_HISTORY_DAYS", django_settings.RETAIN_HISTORY_DAYS),
        "driver_records.recordchange.new_value": ("ONESTOP_RETAIN_HISTORY_DAYS", django_settings.RETAIN_HISTORY_DAYS),
        "onestop.idempotentrequest.body": (
            "ONESTOP_RETAIN_IDEMPOTENT_ANSWERS_HOURS",
            django_settings.RETAIN_IDEMPOTENT_ANSWERS_HOURS,
        ),
    }
    for column, (name, value) in expectations.items():
        kept = PERSONAL[column].kept
        assert name in kept and kept.startswith(f"{value} "), (column, kept)


def test_the_settings_come_from_the_environment_and_refuse_zero():
    def load(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        code = (
            "from onestop import settings as s; "
            "print(s.RETAIN_JLIS_EVENTS_DAYS, s.RETAIN_HISTORY_DAYS, s.RETAIN_IDEMPOTENT_ANSWERS_HOURS)"
        )
        return subprocess.run(
            [sys.executable, "-c", code], env={**env, "ONESTOP_ENV": "test", "PATH": "/usr/bin:/bin"}, cwd=ROOT,
            capture_output=True, text=True, check=False,
        )  # fmt: skip

    changed = load(
        {
            "ONESTOP_RETAIN_JLIS_EVENTS_DAYS": "30",
            "ONESTOP_RETAIN_HISTORY_DAYS": "4000",
            "ONESTOP_RETAIN_IDEMPOTENT_ANSWERS_HOURS": "6",
        }
    )
    assert changed.stdout.split() == ["30", "4000", "6"], changed.stderr
    refused = load({"ONESTOP_RETAIN_HISTORY_DAYS": "0"})
    assert refused.returncode != 0 and "ONESTOP_RETAIN_HISTORY_DAYS must be at least 1" in refused.stderr


def test_beat_runs_the_retention_daily_at_half_past_three_in_tokyo():
    entry = django_settings.CELERY_BEAT_SCHEDULE["retention"]
    assert entry["task"] == retention.name == "operations.retention"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({3}, {30})
    assert django_settings.CELERY_TIMEZONE == "Asia/Tokyo"


@pytest.mark.celery_worker
@pytest.mark.postgres
def test_a_real_worker_runs_the_retention_task(celery_worker_process):
    stale = event(processed_at=timezone.now() - timedelta(days=200))
    fresh = event(processed_at=timezone.now() - timedelta(days=1))
    before = AuditEvent.objects.filter(action="retention.purge").count()
    retention.delay()
    wait_until(
        lambda: AuditEvent.objects.filter(action="retention.purge").count() > before,
        60,
        f"the worker's retention run ({celery_worker_process.log})",
    )
    assert remaining(JlisEvent, [stale, fresh]) == {fresh.pk}
    row = AuditEvent.objects.filter(action="retention.purge").latest("id")
    assert row.new_values["deleted"]["jlis_event"] == 1
    assert row.request_id.startswith("task:")  # written by the task, on the worker
