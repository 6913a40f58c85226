"""Safer actions at the counter (issue 18, items 5 and 6) in a real browser, in Japanese: a holding-
status change asks for a reason and a confirmation (R12)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from driver_records.models import DriverRecord
from onestop.demo import seed_demo
from tests.e2e.test_consent_journeys import as_user, open_holder, tokyo_card_holder

pytestmark = pytest.mark.django_db(transaction=True)

REASON = "本人の申出により従来の免許証を交付"


def test_r12_a_holding_status_change_asks_for_a_reason_and_a_confirmation(page, axe, screenshot, live_server):
    seed_demo()
    record = tokyo_card_holder()
    as_user(page, "clerk")
    open_holder(page, record)
    page.get_by_text("保有状況の変更を記録").click()
    form = page.get_by_test_id("holding-form")
    form.get_by_label("新しい保有状況").select_option(label="2枚持ち")
    form.get_by_label("変更の理由").fill(REASON)
    form.get_by_role("button", name="次へ").click()

    # The confirmation says what the change does (R12) and changes nothing yet.
    confirm = page.get_by_test_id("holding-confirm")
    expect(confirm).to_contain_text("「マイナ免許証のみ」から「2枚持ち」に変更しますか")
    expect(page.get_by_test_id("holding-effect")).to_contain_text("J-LISからの自動更新はただちに停止します")
    expect(page.get_by_test_id("holding-reason")).to_have_text(REASON)
    assert axe(page) == []
    screenshot(page, "20-holding-status-confirm")
    assert DriverRecord.objects.get(pk=record.pk).holding_status == "licence_card_only"

    page.get_by_role("button", name="はい、保有状況を変更します").click()
    expect(page.get_by_test_id("holding-status")).to_have_text("2枚持ち")
    entry = page.get_by_test_id("history-entry").first
    expect(entry.get_by_test_id("change-reason")).to_have_text(f"変更の理由: {REASON}")
    expect(entry).to_contain_text("マイナ免許証のみ → 2枚持ち")
    assert axe(page) == []
    stopped = DriverRecord.objects.get(pk=record.pk)
    assert stopped.holding_status == "licence_both" and stopped.feed_stopped_at is not None


def test_r12_cancelling_the_confirmation_changes_nothing(page, live_server):
    seed_demo()
    record = tokyo_card_holder()
    as_user(page, "clerk")
    open_holder(page, record)
    page.get_by_text("保有状況の変更を記録").click()
    form = page.get_by_test_id("holding-form")
    form.get_by_label("新しい保有状況").select_option(label="2枚持ち")
    form.get_by_label("変更の理由").fill(REASON)
    form.get_by_role("button", name="次へ").click()
    page.get_by_role("link", name="やめる").click()
    expect(page.get_by_test_id("holding-status")).to_have_text("マイナ免許証のみ")
    assert DriverRecord.objects.get(pk=record.pk).feed_stopped_at is None
