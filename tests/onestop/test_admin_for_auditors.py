"""The admin as an auditor reads it (issue 18, item 9): the service's name, Japanese words for
actions and columns, the audit detail page with every field and its link in the chain, the CSV's
times in Japan's time to the second."""

from __future__ import annotations

import csv
import io
from datetime import timedelta, timezone

import pytest
from django.urls import reverse

from onestop.audit import AuditEntry, audit_log
from onestop.audit_chain import audit_chain_link
from onestop.models import AuditEvent

pytestmark = pytest.mark.django_db


def _rows(n: int, *, linked: bool = True) -> list[AuditEvent]:
    written = [
        audit_log(AuditEntry(action="record.view", subject_type="record", subject_id=str(i), actor=None))
        for i in range(n)
    ]
    if linked:
        audit_chain_link()  # as the chainer does after the commit
    return [AuditEvent.objects.get(pk=row.pk) for row in written]


def test_the_admin_carries_the_services_name_not_djangos(client, auditor):
    client.force_login(auditor)
    body = client.get(reverse("admin:index")).content.decode()
    assert "住所変更ワンストップサービス" in body
    assert "Django" not in body


def test_the_audit_list_speaks_japanese(client, auditor):
    _rows(1)
    client.force_login(auditor)
    body = client.get(reverse("admin:onestop_auditevent_changelist")).content.decode()
    assert "保有者ページの閲覧" in body  # record.view in words
    for header in ("通番", "日時", "操作"):
        assert header in body, header
    for english in (">Seq<", ">Occurred at<", ">Action<"):
        assert english not in body, english


def test_the_audit_detail_page_shows_every_field_and_its_link_in_the_chain(client, auditor):
    first, second = _rows(2)
    client.force_login(auditor)
    body = client.get(reverse("admin:onestop_auditevent_change", args=[second.pk])).content.decode()
    for value in (
        str(second.seq),
        "record.view",
        "保有者ページの閲覧",
        second.subject_id,
        second.prev_hash,
        second.row_hash,
    ):
        assert value in body, value
    # The chain: a link to the row before, whose hash is this row's previous hash (written by the trail).
    assert first.row_hash == second.prev_hash
    assert reverse("admin:onestop_auditevent_change", args=[first.pk]) in body
    assert "そのハッシュがこの行の「前の行のハッシュ」と一致します" in body
    assert "この行のハッシュは内容と一致します" in body


def test_the_csv_gives_times_in_japan_time_to_the_second(client, auditor):
    (row,) = _rows(1)
    stored = AuditEvent.objects.get(pk=row.pk).occurred_at  # UTC, with microseconds
    jst = stored.astimezone(timezone(timedelta(hours=9)))  # Japan Standard Time: UTC+9, no summer time
    client.force_login(auditor)
    answer = client.get(reverse("admin:onestop_auditevent_export"))
    table = list(csv.reader(io.StringIO(b"".join(answer.streaming_content).decode("utf-8-sig"))))
    header, *lines = table
    cells = dict(zip(header, next(line for line in lines if line[0] == str(row.seq)), strict=True))
    assert cells["日時"] == f"{jst:%Y-%m-%d %H:%M:%S}"
    assert "." not in cells["日時"]
    assert cells["操作"] == "保有者ページの閲覧"


@pytest.mark.postgres  # SQLite links each row in its writer's transaction
def test_a_row_not_linked_yet_is_listed_first_and_says_so(client, auditor):
    (linked,) = _rows(1)
    (waiting,) = _rows(1, linked=False)
    client.force_login(auditor)
    listing = client.get(reverse("admin:onestop_auditevent_changelist")).content.decode()
    assert listing.index(reverse("admin:onestop_auditevent_change", args=[waiting.pk])) < listing.index(
        reverse("admin:onestop_auditevent_change", args=[linked.pk])
    )
    detail = client.get(reverse("admin:onestop_auditevent_change", args=[waiting.pk])).content.decode()
    assert "チェーンにまだつながれていません" in detail
