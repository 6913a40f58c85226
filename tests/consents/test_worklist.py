"""The office's worklist (issue 18, "Worklist and status"): today's registrations and revocations
at the office (a Japan day), consents waiting for J-LIS with how long, and the messages to J-LIS
that were refused or given up with the reason in Japanese; only the holders the office serves
(R4), each linking to the holder."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from consents.models import Channel, Consent, ConsentStatus
from consents.selectors import office_worklist
from jlis_gateway.models import OutboxKind, OutboxMessage, OutboxStatus
from onestop.models import Office
from onestop.roles import Role
from tests.conftest import _staff
from tests.driver_records.world import consent_for
from tests.factories import DriverRecordFactory

pytestmark = pytest.mark.django_db
JST = ZoneInfo("Asia/Tokyo")
OSAKA = "大阪府門真市一番町２３番１６号"
URL = "/counter/consents/worklist/"  # what the navigation links to


def _consent(record, *, office=None, created_at=None, status=ConsentStatus.PENDING, **fields) -> Consent:
    consent = consent_for(record, status=status, created_at=created_at or timezone.now())
    Consent.objects.filter(pk=consent.pk).update(office=office, **fields)
    consent.refresh_from_db()
    return consent


def _outbox(consent, *, status=OutboxStatus.FAILED, last_error="", kind=OutboxKind.SUBMIT_CONSENT) -> OutboxMessage:
    now = timezone.now()
    return OutboxMessage.objects.create(
        kind=kind, consent=consent, idempotency_key=f"k-{consent.pk}-{kind}", status=status, attempts=10,
        next_attempt_at=now, created_at=now, claimed_at=now, last_error=last_error,
    )  # fmt: skip


def _section(body: str, testid: str) -> str:
    assert f'data-testid="{testid}"' in body, testid
    return body.split(f'data-testid="{testid}"')[1].split("</table>")[0]


def _text(html: str) -> str:
    return re.sub(r"[ \t\n]+", " ", re.sub(r"<[^>]+>", " ", html))  # 　 (U+3000) stays


def test_the_day_is_japans_day_and_the_lists_are_this_offices(clerk, supervisor, tokyo_office):
    # 09:00 JST: the day began at 00:00 JST, which is 15:00 UTC the day before.
    now = datetime(2026, 12, 3, 9, 0, tzinfo=JST)
    midnight = datetime.combine(now.date(), time(0), tzinfo=JST)
    shinjuku = Office.objects.create(code="13-PS", name="新宿警察署", kind="police_station", prefecture="13")
    record = DriverRecordFactory()
    last_night = _consent(record, office=tokyo_office, created_at=midnight - timedelta(seconds=1))
    first_thing = _consent(record, office=tokyo_office, created_at=midnight)
    _consent(record, office=shinjuku, created_at=midnight + timedelta(hours=1))  # another office
    revoked_here = _consent(
        record, office=shinjuku, created_at=midnight - timedelta(days=3), status=ConsentStatus.REVOKED,
        revoked_at=midnight + timedelta(minutes=5), revoked_by=supervisor, revoked_channel=Channel.COUNTER,
    )  # fmt: skip
    _consent(
        record,
        office=tokyo_office,
        status=ConsentStatus.REVOKED,
        created_at=midnight - timedelta(days=3),
        revoked_at=midnight + timedelta(minutes=6),
        revoked_channel=Channel.MYNAPORTAL,
    )  # fmt: skip  (revoked by the holder through Mynaportal: not at this office)
    day = office_worklist(who=clerk, now=now)
    assert day.day == now.date()
    assert [c.pk for c in day.registered] == [first_thing.pk]
    assert [c.pk for c in day.revoked] == [revoked_here.pk]
    assert last_night.pk in [c.pk for c in day.waiting]  # still waiting, whatever the day


def test_a_clerk_sees_waiting_consents_oldest_first_with_how_long(client, clerk, tokyo_office):
    now = timezone.now()
    three_days = _consent(
        DriverRecordFactory(name="佐藤　花子"), office=tokyo_office, created_at=now - timedelta(days=3)
    )
    two_hours = _consent(
        DriverRecordFactory(name="鈴木　一郎"), office=tokyo_office, created_at=now - timedelta(hours=2)
    )
    _consent(DriverRecordFactory(name="大阪　次郎", address=OSAKA), created_at=now - timedelta(days=5))
    client.force_login(clerk)
    body = client.get(URL).content.decode()
    waiting = _section(body, "worklist-waiting")
    rows = waiting.split("<tr>")[2:]  # after the header row
    assert len(rows) == 2 and "佐藤　花子" in rows[0] and "鈴木　一郎" in rows[1]
    assert "3日" in _text(rows[0]) and "2時間" in _text(rows[1])
    assert reverse("counter:record", args=[three_days.record_id]) in rows[0]
    assert reverse("counter:record", args=[two_hours.record_id]) in rows[1]
    assert "大阪" not in body  # another prefecture's holder: not this office's (R4)


def test_failed_messages_show_the_reason_in_japanese_and_only_a_supervisor_may_resend(
    client, clerk, supervisor, tokyo_office
):
    refused = _outbox(
        _consent(DriverRecordFactory(name="田中　健太"), office=tokyo_office, status=ConsentStatus.REJECTED),
        last_error="J-LIS refused: HTTP 422 invalid_items: items must be a non-empty subset",
    )
    gave_up = _outbox(
        _consent(DriverRecordFactory(name="伊藤　美咲"), office=tokyo_office),
        last_error="gave up after 10 attempts: POST /v1/consents: HTTP 503 unavailable",
    )
    _outbox(_consent(DriverRecordFactory(name="渡辺　翔"), office=tokyo_office), status=OutboxStatus.PENDING)
    _outbox(
        _consent(DriverRecordFactory(name="大阪　三郎", address=OSAKA)),
        last_error="gave up after 10 attempts: POST /v1/consents: HTTP 503 unavailable",
    )
    client.force_login(clerk)
    failed = _section(client.get(URL).content.decode(), "worklist-failed")
    text = _text(failed)
    assert "田中　健太" in text and "伊藤　美咲" in text
    assert "渡辺　翔" not in text and "大阪" not in text  # a row still being sent; another prefecture
    assert "J-LISが受け付けませんでした（HTTP 422、invalid_items）：提供する事項が受け付けられません" in text
    assert "10回試みて送信を断念しました：J-LISが応答しません（HTTP 503）" in text
    assert reverse("counter:record", args=[gave_up.consent.record_id]) in failed
    resend = reverse("consents:outbox-resend", args=[gave_up.pk])
    assert resend not in failed  # a clerk cannot resend
    client.force_login(supervisor)
    failed = _section(client.get(URL).content.decode(), "worklist-failed")
    assert resend in failed
    assert reverse("consents:outbox-resend", args=[refused.pk]) not in failed  # J-LIS refused it


def test_the_worklist_is_for_counter_staff_and_linked_from_their_navigation(client, clerk, auditor):
    client.force_login(auditor)
    assert client.get(URL).status_code == 403
    client.force_login(clerk)
    body = client.get(reverse("counter:home")).content.decode()
    nav = body.split('<nav aria-label="メイン"')[1].split("</nav>")[0] if '<nav aria-label="メイン"' in body else body
    assert f'href="{URL}"' in nav and "窓口の業務一覧" in nav


def test_the_worklist_in_english(client, clerk, tokyo_office):
    _consent(DriverRecordFactory(), office=tokyo_office, created_at=timezone.now() - timedelta(hours=2))
    client.force_login(clerk)
    client.cookies["django_language"] = "en"
    body = client.get(URL).content.decode()
    assert "Office worklist" in body and "Consents waiting for J-LIS" in body
    assert "2\xa0hours" in _section(body, "worklist-waiting") or "2 hours" in _section(body, "worklist-waiting")
    for japanese in ("窓口の業務一覧", "反映待ち", "時間"):
        assert japanese not in body, japanese


# Session, user with office, second factor's device, roles, the J-LIS banner, the four lists
# (registered, revoked, waiting, failed), the session's new expiry.
WORKLIST_QUERIES = 10


def _queries(client) -> int:
    client.get(URL)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(URL).status_code == 200
    return sum(1 for q in captured.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE")))


def test_the_worklist_runs_as_many_queries_for_many_rows_as_for_one(client, supervisor, tokyo_office):
    client.force_login(supervisor)

    def add(n: int) -> None:
        for _ in range(n):
            record = DriverRecordFactory()
            _consent(record, office=tokyo_office)
            revoked = _consent(
                record, office=tokyo_office, status=ConsentStatus.REVOKED, revoked_at=timezone.now(),
                revoked_by=supervisor, revoked_channel=Channel.COUNTER,
            )  # fmt: skip
            _outbox(revoked, last_error="gave up after 10 attempts: POST /v1/consents: timed out")

    add(1)
    assert _queries(client) == WORKLIST_QUERIES
    add(12)
    assert _queries(client) == WORKLIST_QUERIES


def test_a_supervisor_of_another_prefecture_sees_none_of_these_holders(client, tokyo_office, osaka_office):
    _consent(DriverRecordFactory(name="東京　太郎"), office=tokyo_office)
    osaka_supervisor = _staff("oscar", Role.SUPERVISOR, osaka_office)
    client.force_login(osaka_supervisor)
    body = client.get(URL).content.decode()
    assert "東京　太郎" not in body
    assert "J-LISの反映待ちの同意はありません。" in body
