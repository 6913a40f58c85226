"""The gateway monitor: what supervisors and auditors see, and the "poll now" button."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from jlis_gateway.models import JlisEvent, OutboxKind, OutboxMessage, OutboxStatus, PollState, QuarantinedEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def gateway_state(signed_consent):
    now = timezone.now()
    PollState.objects.create(
        name="events",
        cursor="42",
        last_success_at=now - timedelta(minutes=4),
        last_attempt_at=now,
        last_error="GET /v1/events: HTTP 503 unavailable",
    )
    for i, status in enumerate(["pending", "pending", "applied", "skipped"]):
        JlisEvent.objects.create(
            event_id=f"ev_{i}",
            kind="latest_info",
            holder_seq=i + 1,
            serial="1",
            occurred_at=now,
            payload={},
            received_at=now - timedelta(minutes=10),
            status=status,
        )
    QuarantinedEvent.objects.create(
        event_id="ev_bad",
        received_at=now,
        reason="holder_seq is not a positive integer",
        paths=["holder_seq"],
        body_sha256="ab" * 32,
    )
    failed = OutboxMessage.objects.create(
        kind=OutboxKind.SUBMIT_CONSENT,
        consent=signed_consent(),
        idempotency_key="k1",
        status=OutboxStatus.FAILED,
        attempts=10,
        next_attempt_at=now,
        created_at=now,
        last_error="J-LIS refused: HTTP 400 invalid_items: bad items",
    )
    OutboxMessage.objects.create(
        kind=OutboxKind.REVOKE_CONSENT,
        consent=failed.consent,
        idempotency_key="k2",
        attempts=2,
        next_attempt_at=now + timedelta(minutes=1),
        created_at=now,
        last_error="POST /v1/consents/x/revoke: timed out after 10.0s",
    )
    return failed


def test_clerks_and_strangers_do_not_see_the_monitor(client, clerk):
    url = reverse("gateway:monitor")
    assert reverse("login") in client.get(url)["Location"]
    client.force_login(clerk)
    assert client.get(url).status_code == 403
    assert url not in client.get(reverse("counter:home")).content.decode()


def test_a_supervisor_sees_polling_events_and_outbox_problems_in_japanese(client, supervisor, gateway_state):
    client.force_login(supervisor)
    assert reverse("gateway:monitor") in client.get(reverse("counter:home")).content.decode()  # nav link
    body = client.get(reverse("gateway:monitor")).content.decode()
    assert "J-LIS連携" in body and "最後に成功した取得" in body
    assert "HTTP 503 unavailable" in body  # the last poll error
    counts = body.split('data-testid="event-counts"')[1].split("</table>")[0]
    assert [cell.split("<")[0] for cell in counts.split("<td>")[1:]] == ["4", "1", "1", "2", "1"]
    assert "holder_seq is not a positive integer" in body and "ev_bad" in body
    assert "山田　秘密" not in body  # a quarantined body may hold personal data: never shown
    assert "invalid_items: bad items" in body and gateway_state.consent.reference in body
    assert "timed out after 10.0s" in body
    assert reverse("gateway:poll_now") in body


def test_an_auditor_reads_the_monitor_but_cannot_poll(client, auditor, gateway_state):
    client.force_login(auditor)
    body = client.get(reverse("gateway:monitor")).content.decode()
    assert "J-LIS連携" in body and reverse("gateway:poll_now") not in body
    assert client.post(reverse("gateway:poll_now")).status_code == 403


def test_poll_now_only_answers_a_post(client, supervisor):
    client.force_login(supervisor)
    assert client.get(reverse("gateway:poll_now")).status_code == 405


@pytest.mark.redis
def test_poll_now_queues_a_poll_on_the_broker(client, supervisor):
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    broker = redis.Redis.from_url(settings.REDIS_URL)
    broker.delete(queue)
    client.force_login(supervisor)
    response = client.post(reverse("gateway:poll_now"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("gateway:monitor")
    assert "取得を依頼しました" in response.content.decode()
    [message] = broker.lrange(queue, 0, -1)
    broker.delete(queue)
    assert json.loads(message)["headers"]["task"] == "jlis_gateway.poll_events"
    assert base64.b64decode(json.loads(message)["body"])  # a real task message


def test_poll_now_says_so_when_the_queue_is_unreachable(client, supervisor, monkeypatch):
    from kombu.exceptions import OperationalError

    def unreachable() -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr("jlis_gateway.views.poll_events.delay", unreachable)
    client.force_login(supervisor)
    body = client.post(reverse("gateway:poll_now"), follow=True).content.decode()
    assert "タスクキューに接続できない" in body


def test_item8_the_monitor_says_what_each_error_means_in_japanese(client, supervisor, gateway_state):
    client.force_login(supervisor)
    body = client.get(reverse("gateway:monitor")).content.decode()
    last_error = body.split('data-testid="last-error"')[1].split("</dd>")[0]
    assert "J-LISが応答しません（HTTP 503）" in last_error
    problems = body.split('data-testid="outbox-problems"')[1].split("</table>")[0]
    assert "J-LISが受け付けませんでした（HTTP 400、invalid_items）" in problems
    assert "J-LISが時間内に応答しません" in problems
    assert "技術的な詳細" in problems  # the stored text stays at hand for operators


def test_item8_each_outbox_row_is_counted_once(client, supervisor, signed_consent):
    now = timezone.now()
    consent = signed_consent()
    rows = {  # (status, attempts) -> how many; the column each belongs in
        ("pending", 0): 2,  # waiting
        ("sending", 1): 1,  # sending
        ("pending", 3): 3,  # retrying
        ("failed", 10): 1,  # failed
        ("sent", 1): 4,  # sent
    }
    n = 0
    for (status, attempts), count in rows.items():
        for _ in range(count):
            n += 1
            OutboxMessage.objects.create(
                kind=OutboxKind.SUBMIT_CONSENT,
                consent=consent,
                idempotency_key=f"k{n}",
                status=status,
                attempts=attempts,
                next_attempt_at=now,
                created_at=now,
            )
    client.force_login(supervisor)
    body = client.get(reverse("gateway:monitor")).content.decode()
    counts = body.split('data-testid="outbox-counts"')[1].split("</table>")[0]
    cells = [int(cell.split("<")[0]) for cell in counts.split("<td>")[1:]]
    assert cells == [2, 1, 3, 1, 4]  # waiting, sending, retrying, failed, sent
    assert sum(cells) == n == OutboxMessage.objects.count()


def test_item8_counter_pages_show_a_banner_while_polling_or_sending_fails(client, clerk, signed_consent):
    client.force_login(clerk)
    home = reverse("counter:home")
    assert 'data-testid="jlis-banner"' not in client.get(home).content.decode()

    state = PollState.objects.create(name="events", cursor="1", last_error="GET /v1/events: HTTP 503 unavailable")
    body = client.get(home).content.decode()
    assert "J-LISから情報を取得できていません" in body
    assert "J-LISへの送信に失敗しています" not in body

    state.last_error = ""
    state.save()
    now = timezone.now()
    message = OutboxMessage.objects.create(
        kind=OutboxKind.SUBMIT_CONSENT,
        consent=signed_consent(),
        idempotency_key="k1",
        attempts=2,
        next_attempt_at=now,
        created_at=now,
        last_error="POST /v1/consents: HTTP 503 unavailable",
    )
    body = client.get(home).content.decode()
    assert "J-LISへの送信に失敗しています" in body
    assert "J-LISから情報を取得できていません" not in body

    message.status, message.last_error = OutboxStatus.SENT, ""
    message.save()
    assert 'data-testid="jlis-banner"' not in client.get(home).content.decode()
