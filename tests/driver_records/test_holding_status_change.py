"""A holding-status change at the counter (R12, R14, issue 18 item 6): the clerk gives a reason, sees
what the change does, and confirms; only the confirmed send changes the record, and the reason is
in the history and the audit trail."""

from __future__ import annotations

import pytest
from django.urls import reverse

from consents.feed import FeedState, record_feed
from driver_records.models import RecordChange
from driver_records.services import ChangeReasonError, record_holding_status_change
from onestop.models import AuditEvent

from .world import holder

pytestmark = pytest.mark.django_db

REASON = "本人の申出により運転免許証（プラスチック）を交付"
# 12345678901 followed by its check digit (総務省令第85号 第5条, DOMAIN.md: 8).
MY_NUMBER = "123456789018"


def _post(client, record, **data):
    body = {"holding_status": "licence_both", "version": record.version, **data}
    return client.post(reverse("counter:holding-status", args=[record.pk]), body, follow=True)


def test_r12_the_first_send_only_asks_to_confirm_and_says_the_feed_will_stop(client, clerk):
    record = holder(serial="1")
    client.force_login(clerk)
    body = _post(client, record, reason=REASON).content.decode()
    assert "に変更しますか" in body
    # R12: leaving card-only stops the updates at once, until a new registration.
    assert "J-LISからの自動更新はただちに停止" in body and "再び同意を登録するまで" in body
    assert REASON in body
    record.refresh_from_db()
    assert record.holding_status == "licence_card_only" and record.feed_stopped_at is None
    assert not RecordChange.objects.filter(record=record).exists()


def test_r12_the_confirmed_change_stops_the_feed_and_the_reason_is_in_the_history_and_the_audit(client, clerk):
    record = holder(serial="1")
    client.force_login(clerk)
    response = _post(client, record, reason=f"  {REASON} ", confirmed="1")
    body = response.content.decode()
    assert "保有状況を記録しました" in body
    record.refresh_from_db()
    assert record.holding_status == "licence_both" and record.feed_stopped_at is not None
    assert record_feed(record).state == FeedState.STOPPED_HOLDING_STATUS
    history = body[body.index('data-testid="history"') :]
    assert f"変更の理由: {REASON}" in history
    event = AuditEvent.objects.filter(action="record.update", record_number=record.number).get()
    assert event.new_values == {"holding_status": "licence_both", "reason": REASON}


@pytest.mark.parametrize("reason", ["", "   \n "])
def test_r12_no_change_without_a_reason_even_when_confirmed(client, clerk, reason):
    record = holder(serial="1")
    client.force_login(clerk)
    body = _post(client, record, reason=reason, confirmed="1").content.decode()
    assert "変更の理由を入力してください" in body
    record.refresh_from_db()
    assert record.holding_status == "licence_card_only" and record.feed_stopped_at is None


def test_r14_a_reason_holding_a_my_number_is_refused_and_nothing_changes(client, clerk):
    record = holder(serial="1")
    client.force_login(clerk)
    body = _post(client, record, reason=f"番号 {MY_NUMBER} の確認済", confirmed="1").content.decode()
    assert "個人番号" in body
    record.refresh_from_db()
    assert record.holding_status == "licence_card_only"
    assert not AuditEvent.objects.filter(action="record.update").exists()


def test_r14_the_service_refuses_a_my_number_in_the_reason_whatever_the_form_did(clerk):
    record = holder(serial="1")
    with pytest.raises(ChangeReasonError):
        record_holding_status_change(
            record_id=record.pk, expected_version=record.version, holding_status="licence_both",
            reason=MY_NUMBER, actor=clerk,
        )  # fmt: skip
    record.refresh_from_db()
    assert record.holding_status == "licence_card_only"


def test_the_same_status_again_is_refused_on_the_form(client, clerk):
    record = holder(serial="1")
    client.force_login(clerk)
    body = _post(client, record, holding_status="licence_card_only", reason=REASON).content.decode()
    assert "既にこの保有状況です" in body
    assert "に変更しますか" not in body


def test_r12_back_to_card_only_says_the_stopped_feed_stays_stopped(client, clerk):
    record = holder(serial="1")
    client.force_login(clerk)
    _post(client, record, reason=REASON, confirmed="1")
    record.refresh_from_db()
    body = _post(client, record, holding_status="licence_card_only", reason="プラスチック免許証を返納").content.decode()
    assert "停止した自動更新は、本人が再び同意を登録するまで停止したまま" in body
