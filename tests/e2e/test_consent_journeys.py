"""The counter's journeys in a real browser, in Japanese, against a live server on PostgreSQL,
a real Celery worker on Redis and the J-LIS simulator over HTTP."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from consents.models import Consent, ConsentStatus
from consents.period import consent_period, japan_date
from driver_records.models import DriverRecord
from jlis_gateway.models import OutboxMessage, OutboxStatus
from jlis_gateway.tasks import poll_events
from onestop.demo import DEMO_LOGINS, seed_demo
from onestop.wareki import wareki
from tests.e2e.conftest import log_in
from tests.jlis_fixtures import wait_until

pytestmark = [pytest.mark.celery_worker, pytest.mark.redis]
LOGINS = {login.username: login for login in DEMO_LOGINS}
NEW_ADDRESS = "東京都府中市多磨町３丁目１番地"


def as_user(page, username: str) -> None:
    login = LOGINS[username]
    log_in(page, login.username, login.password, login.totp_key)


def open_holder(page, record: DriverRecord) -> None:
    page.goto("/counter/")
    page.get_by_label("免許証番号等または氏名").fill(record.number)
    page.get_by_role("button", name="検索").click()  # an exact record number opens the holder
    expect(page.get_by_role("heading", level=1)).to_contain_text(record.number)


def register_with_demo_card(page, screenshot, axe, *, variant: str = "正しく署名する") -> None:
    page.get_by_label("住所").check()
    page.get_by_label("氏名").check()
    page.get_by_role("button", name="署名する同意文を作成").click()
    expect(page.get_by_test_id("statement-text")).to_contain_text("同意")
    screenshot(page, "04-statement-to-sign")
    assert axe(page) == []
    page.get_by_label("デモ用カード").select_option(label=variant)
    page.get_by_role("button", name="デモ用カードで署名").click()


def prints_for_the_holder(page, record: DriverRecord) -> None:
    """On screen the page has its message, navigation and print button; printed, only the sheet."""
    expect(page.locator("ul.messages")).to_be_visible()
    expect(page.get_by_role("navigation")).to_be_visible()
    expect(page.get_by_role("button", name="印刷する")).to_be_visible()
    page.emulate_media(media="print")
    try:
        expect(page.locator("ul.messages")).to_be_hidden()
        expect(page.get_by_role("navigation")).to_be_hidden()
        expect(page.locator("header.site")).to_be_hidden()
        expect(page.get_by_role("button", name="印刷する")).to_be_hidden()
        expect(page.locator("article.receipt")).to_contain_text(record.name)
        expect(page.locator("article.receipt")).to_contain_text(record.number)
    finally:
        page.emulate_media(media="screen")


def tokyo_card_holder() -> DriverRecord:
    return DriverRecord.objects.filter(prefecture="13", holding_status="licence_card_only").order_by("pk").first()


def test_clerk_registers_a_consent_which_turns_active_and_follows_a_move(
    page, screenshot, axe, live_server, celery_worker_process, jlis_simulator
):
    seed_demo()
    record = tokyo_card_holder()
    as_user(page, "clerk")
    open_holder(page, record)
    expect(page.get_by_test_id("eligibility")).to_contain_text("対象です")
    screenshot(page, "03-holder-eligible")
    assert axe(page) == []
    register_with_demo_card(page, screenshot, axe)

    # The receipt: pending until J-LIS reflects it.
    expect(page.get_by_role("heading", level=1)).to_contain_text("受付票")
    expect(page.get_by_text("J-LIS反映待ち").first).to_be_visible()
    screenshot(page, "05-receipt-pending")
    assert axe(page) == []
    consent = Consent.objects.get(record=record)
    wait_until(
        lambda: OutboxMessage.objects.filter(consent=consent, status=OutboxStatus.SENT).exists(),
        60, f"the worker to send the consent ({celery_worker_process.log})",
    )  # fmt: skip
    consent.refresh_from_db()

    # J-LIS reflects it; after a poll the holder page shows it active with its last valid day.
    jlis_simulator.reflect(consent_id=consent.jlis_consent_id)
    poll_events.delay()
    wait_until(lambda: Consent.objects.get(pk=consent.pk).status == ConsentStatus.ACTIVE, 60, "the reflection")
    _first, last_day = consent_period(japan_date(consent.created_at))
    open_holder(page, record)
    expect(page.get_by_test_id("consent-state")).to_have_text("有効")
    expect(page.get_by_test_id("last-valid-day")).to_contain_text(
        f"{wareki(last_day)}（{last_day:%Y}年{last_day.month}月{last_day.day}日）"
    )
    screenshot(page, "06-holder-active")

    # The holder moves: J-LIS reports the new address and serial; the page shows them.
    jlis_simulator.move(holder=1, address=NEW_ADDRESS)
    poll_events.delay()
    wait_until(lambda: DriverRecord.objects.get(pk=record.pk).address == NEW_ADDRESS, 60, "the move to apply")
    page.reload()
    expect(page.get_by_test_id("address")).to_have_text(NEW_ADDRESS)
    expect(page.get_by_test_id("feed-state")).to_contain_text("有効")
    screenshot(page, "07-holder-moved")
    assert axe(page) == []


def test_a_tampered_signature_shows_its_error_and_registers_nothing(page, screenshot, axe, live_server):
    seed_demo()
    record = tokyo_card_holder()
    as_user(page, "clerk")
    open_holder(page, record)
    register_with_demo_card(page, screenshot, axe, variant="署名を改ざんする（拒否の表示を確認）")
    refusal = page.get_by_test_id("refusal")
    expect(refusal).to_contain_text("署名が同意内容と一致しません")
    expect(refusal).to_contain_text("J-LIS にも送信していません")
    screenshot(page, "08-tampered-signature-refused")
    assert axe(page) == []
    assert not Consent.objects.filter(record=record).exists()


def test_clerk_is_refused_for_an_out_of_prefecture_holder_with_the_reason(page, screenshot, live_server):
    seed_demo()
    osaka = DriverRecord.objects.filter(prefecture="27", holding_status="licence_card_only").first()
    as_user(page, "clerk")  # a Tokyo clerk
    open_holder(page, osaka)
    expect(page.get_by_test_id("start-refusal")).to_contain_text("住所地")
    screenshot(page, "11-out-of-prefecture-refused")


def test_supervisor_revokes_a_consent(page, screenshot, axe, live_server):
    seed_demo()
    record = tokyo_card_holder()
    as_user(page, "clerk")
    open_holder(page, record)
    register_with_demo_card(page, screenshot, axe)
    expect(page.get_by_role("heading", level=1)).to_contain_text("受付票")
    expect(page.get_by_test_id("receipt-consent-date")).to_contain_text("J-LISでの反映待ち")
    prints_for_the_holder(page, record)
    page.get_by_role("button", name="ログアウト").click()
    as_user(page, "supervisor")
    open_holder(page, record)
    page.get_by_role("link", name="この同意を取り消す").click()
    page.get_by_label("取消の理由").fill("本人から取消の申出があったため")
    page.get_by_role("button", name="次へ").click()
    expect(page.get_by_test_id("revoke-confirm")).to_be_visible()
    screenshot(page, "10-revoke-confirm")
    assert axe(page) == []
    page.get_by_role("button", name="はい、同意を取り消します").click()
    expect(page.get_by_text("同意を取り消しました").first).to_be_visible()
    assert Consent.objects.get(record=record).status == ConsentStatus.REVOKED
    # The holder's slip: what was revoked, when, why and where.
    expect(page.get_by_role("heading", level=1)).to_contain_text("取消")
    expect(page.get_by_test_id("slip-reason")).to_have_text("本人から取消の申出があったため")
    expect(page.get_by_test_id("slip-office")).to_contain_text("府中運転免許試験場")
    screenshot(page, "11-revocation-slip")
    assert axe(page) == []
    prints_for_the_holder(page, record)


def test_registration_is_doable_by_keyboard_alone(page, live_server):
    seed_demo()
    record = tokyo_card_holder()
    as_user(page, "clerk")
    expect(page.get_by_label("免許証番号等または氏名")).to_be_focused()  # on arrival
    page.keyboard.type(record.number)
    page.keyboard.press("Enter")  # an exact record number opens the holder
    for label in ("住所", "氏名"):
        page.get_by_label(label).focus()
        page.keyboard.press("Space")
    page.get_by_role("button", name="署名する同意文を作成").focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="デモ用カードで署名").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("受付票")
    # Every control on the way is reachable with Tab from the top of the holder page.
    open_holder(page, record)
    names = set()
    for _ in range(60):
        page.keyboard.press("Tab")
        names.add(page.evaluate("document.activeElement.innerText || document.activeElement.value || ''").strip())
    assert any("取消" in n or "同意" in n for n in names)
