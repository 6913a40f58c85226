"""Defensive measures (R15) and disclosure requests (R16) in a real browser, in Japanese: two
supervisors stop the service for a holder; a disclosure request goes to its printable report."""

from __future__ import annotations

from playwright.sync_api import expect

from consents.models import Consent, ConsentStatus
from onestop.demo import seed_demo
from safeguards.models import DisclosureRequest, DisclosureStatus, SuspensionRequest, SuspensionStatus
from tests.e2e.test_consent_journeys import as_user, open_holder, register_with_demo_card, tokyo_card_holder


def test_two_supervisors_stop_the_service_for_a_holder(page, screenshot, axe, live_server):
    seed_demo()
    record = tokyo_card_holder()
    as_user(page, "clerk")
    open_holder(page, record)
    register_with_demo_card(page, screenshot, axe)
    page.get_by_role("button", name="ログアウト").click()

    as_user(page, "supervisor")
    open_holder(page, record)
    page.get_by_role("link", name="禁止事項に該当する行為によりサービスの停止を提案する").click()
    page.get_by_label("(2) 免許保有者本人以外が、本サービスを利用すること").check()
    page.get_by_label("該当する行為があると疑われる").check()
    page.get_by_label("メモ（行われた行為と、判明した経緯）").fill("本人以外の者が窓口で同意を試みた")
    screenshot(page, "12-suspension-propose")
    assert axe(page) == []
    page.get_by_role("button", name="提案する").click()
    expect(page.get_by_test_id("suspension-status")).to_have_text("別の責任者の確認待ち")
    expect(page.get_by_text("あなたが提案したものです").first).to_be_visible()
    page.get_by_role("button", name="ログアウト").click()

    as_user(page, "supervisor2")
    page.get_by_role("link", name="防御措置・開示請求").click()
    expect(page.get_by_test_id("suspensions-waiting")).to_contain_text(record.number)
    assert axe(page) == []
    page.get_by_role("link", name="決定する").click()
    page.get_by_label("確認する：本サービスを停止し、収集した情報を抹消する").check()
    page.get_by_role("button", name="次へ").click()
    expect(page.get_by_test_id("confirm-step")).to_contain_text("この操作は元に戻せません")
    screenshot(page, "13-suspension-confirm")
    assert axe(page) == []
    page.get_by_role("button", name="停止して抹消する").click()
    expect(page.get_by_test_id("suspension-status")).to_contain_text("確定")
    expect(page.get_by_test_id("erased")).to_contain_text("署名用電子証明書")
    open_holder(page, record)
    expect(page.get_by_test_id("suspended")).to_contain_text("停止され")
    expect(page.get_by_test_id("feed-state")).to_contain_text("停止")
    screenshot(page, "14-holder-suspended")
    assert axe(page) == []
    consent = Consent.objects.get(record=record)
    assert consent.status == ConsentStatus.SUSPENDED and bytes(consent.certificate) == b""
    assert SuspensionRequest.objects.get().status == SuspensionStatus.CONFIRMED


def test_a_disclosure_request_goes_step_by_step_to_its_printable_report(page, screenshot, axe, live_server):
    seed_demo()
    record = tokyo_card_holder()
    as_user(page, "supervisor")
    open_holder(page, record)
    page.get_by_role("link", name="開示請求を登録する").click()
    page.get_by_label("本人", exact=True).check()
    page.get_by_label("請求者の氏名（請求書の記載どおり）").fill(record.name)
    assert axe(page) == []
    page.get_by_role("button", name="登録する").click()
    expect(page.get_by_test_id("disclosure-status")).to_have_text("受付")
    page.get_by_label("確認した本人確認書類").select_option(label="旅券")
    page.get_by_role("button", name="この手続を記録する").click()
    expect(page.get_by_test_id("disclosure-status")).to_have_text("本人確認済み")
    page.get_by_label("受領した手数料（円）").fill("300")
    page.get_by_label("領収番号").fill("R-2026-0001")
    screenshot(page, "15-disclosure-steps")
    assert axe(page) == []
    page.get_by_role("button", name="この手続を記録する").click()
    expect(page.get_by_test_id("disclosure-status")).to_have_text("手数料納付済み")
    page.get_by_test_id("report-link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("開示請求に対する回答")
    expect(page.get_by_test_id("report-record")).to_contain_text(record.number)
    screenshot(page, "16-disclosure-report")
    assert axe(page) == []
    assert DisclosureRequest.objects.get().status == DisclosureStatus.FEE_PAID
