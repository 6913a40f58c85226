"""Safer actions at the counter (issue 18, items 5 and 6) in a real browser, in Japanese: a holding-
status change asks for a reason and a confirmation (R12); a registration while another consent
waits for J-LIS warns and says which will govern (R6); the statement page shows the terminal's
result by itself (signed: the receipt; refused: the reason), announced through a live region."""

from __future__ import annotations

import base64
import re
import uuid

import pytest
from playwright.sync_api import expect

from consents.jpki.democard import demo_card_for
from consents.models import Consent, ConsentStatement
from consents.services.terminals import terminal_create
from driver_records.models import DriverRecord
from onestop.demo import seed_demo
from onestop.models import User
from tests.e2e.test_consent_journeys import as_user, open_holder, register_with_demo_card, tokyo_card_holder

pytestmark = pytest.mark.django_db(transaction=True)

REASON = "本人の申出により従来の免許証を交付"


def ask_to_record_two_cards(page) -> DriverRecord:
    """A clerk asks to record that a card-only holder now holds two cards, with a reason."""
    seed_demo()
    record = tokyo_card_holder()
    as_user(page, "clerk")
    open_holder(page, record)
    page.get_by_text("保有状況の変更を記録").click()
    form = page.get_by_test_id("holding-form")
    form.get_by_label("新しい保有状況").select_option(label="2枚持ち")
    form.get_by_label("変更の理由").fill(REASON)
    form.get_by_role("button", name="次へ").click()
    return record


def test_r12_a_holding_status_change_asks_for_a_reason_and_a_confirmation(page, axe, screenshot, live_server):
    record = ask_to_record_two_cards(page)

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
    record = ask_to_record_two_cards(page)
    page.get_by_role("link", name="やめる").click()
    expect(page.get_by_test_id("holding-status")).to_have_text("マイナ免許証のみ")
    assert DriverRecord.objects.get(pk=record.pk).feed_stopped_at is None


def test_r06_a_second_registration_while_one_waits_warns_and_says_which_will_govern(page, axe, screenshot, live_server):
    seed_demo()
    record = tokyo_card_holder()
    as_user(page, "clerk")
    open_holder(page, record)
    register_with_demo_card(page, screenshot, axe)
    expect(page.get_by_role("heading", level=1)).to_contain_text("受付票")
    first = Consent.objects.get(record=record)

    open_holder(page, record)
    warning = page.get_by_test_id("pending-warning")
    expect(warning).to_contain_text("J-LISへの反映を待っている同意が既にあります")
    expect(page.get_by_test_id("pending-warning-consents")).to_contain_text(first.reference)
    expect(page.get_by_test_id("pending-warning-consents")).to_contain_text("住所、氏名")
    expect(page.get_by_test_id("pending-warning-outcome")).to_contain_text(f"{first.reference}は「再同意により終了」")
    assert axe(page) == []
    screenshot(page, "21-holder-second-consent-warning")

    page.get_by_label("生年月日").check()
    page.get_by_role("button", name="署名する同意文を作成").click()
    expect(page.get_by_test_id("statement-text")).to_be_visible()
    outcome = page.get_by_test_id("pending-warning-outcome")
    expect(outcome).to_contain_text("通常はこの新しい同意が有効になります")
    expect(outcome).to_contain_text(f"{first.reference}は「再同意により終了」")
    assert axe(page) == []
    screenshot(page, "22-statement-second-consent-warning")
    page.get_by_role("button", name="デモ用カードで署名").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("受付票")

    # Two consents wait: the earlier is listed as another waiting consent, never as a new one.
    second = Consent.objects.filter(record=record).exclude(pk=first.pk).get()
    open_holder(page, record)
    section = page.get_by_test_id("consent-section")
    expect(page.get_by_test_id("pending-consents")).to_contain_text(first.reference)
    expect(section.get_by_role("heading", name="J-LISへの反映を待っている他の同意")).to_be_visible()
    expect(section.get_by_role("heading", name=re.compile("新しい同意"))).to_have_count(0)
    expect(page.get_by_test_id("pending-consents")).not_to_contain_text("新しい")
    expect(page.get_by_test_id("pending-governs")).to_contain_text(f"最後に登録した{second.reference}が有効")
    assert axe(page) == []


def _sign_as_the_terminal(live_server, statement: ConsentStatement, *, tampered: bool = False):
    """What the counter terminal sends after the holder signs: the card's signature and certificate,
    through the API the terminal uses (its bearer token, an idempotency key)."""
    import requests

    clerk = User.objects.get(username="clerk")
    _terminal, token = terminal_create(name=f"counter {uuid.uuid4().hex[:6]}", office=clerk.office, actor=None)
    card = demo_card_for(statement.record)
    signature = card.sign(statement.text.encode("utf-8"))
    if tampered:
        signature = bytes([signature[0] ^ 0x01]) + signature[1:]
    return requests.post(
        f"{live_server.url}/api/v1/statements/{statement.pk}/signature/",
        json={
            "signature": base64.b64encode(signature).decode(),
            "certificate": base64.b64encode(card.certificate_der).decode(),
        },
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex},
        timeout=60,
    )


def _make_statement(page, record) -> ConsentStatement:
    as_user(page, "clerk")
    open_holder(page, record)
    page.get_by_label("住所").check()
    page.get_by_role("button", name="署名する同意文を作成").click()
    statement_id = page.get_by_test_id("statement-id").inner_text().strip()
    return ConsentStatement.objects.select_related("record").get(pk=statement_id)


def test_the_statement_page_shows_the_receipt_by_itself_once_the_terminal_has_signed(
    page, axe, screenshot, live_server
):
    seed_demo()
    record = tokyo_card_holder()
    statement = _make_statement(page, record)
    status = page.get_by_test_id("signing-status")
    expect(status).to_have_text("端末での本人の署名を待っています。この画面は自動で更新されます。")
    expect(status).to_have_attribute("aria-live", "polite")
    assert axe(page) == []

    answer = _sign_as_the_terminal(live_server, statement)
    assert answer.status_code == 201, answer.text
    # No click: the page finds the signature and opens the receipt.
    expect(page.get_by_role("heading", level=1)).to_contain_text("受付票", timeout=30_000)
    expect(page).to_have_url(re.compile(r"/receipt/$"))
    expect(page.get_by_text(answer.json()["reference"]).first).to_be_visible()


def test_the_statement_page_shows_a_refused_signature_by_itself_and_announces_it(page, axe, live_server):
    seed_demo()
    record = tokyo_card_holder()
    statement = _make_statement(page, record)
    expect(page.get_by_test_id("refusal")).to_have_count(0)

    answer = _sign_as_the_terminal(live_server, statement, tampered=True)
    assert answer.status_code == 422, answer.text
    expect(page.get_by_test_id("refusal")).to_contain_text("署名が同意内容と一致しません", timeout=30_000)
    expect(page.get_by_test_id("signing-status")).to_contain_text("署名は受け付けられませんでした")
    assert axe(page) == []

    # The holder signs again, correctly: the page still follows and opens the receipt.
    assert _sign_as_the_terminal(live_server, statement).status_code == 201
    expect(page.get_by_role("heading", level=1)).to_contain_text("受付票", timeout=30_000)


def test_a_supervisor_withdraws_a_consent_taken_by_mistake(page, axe, screenshot, live_server):
    seed_demo()
    record = tokyo_card_holder()
    as_user(page, "clerk")
    open_holder(page, record)
    register_with_demo_card(page, screenshot, axe)
    expect(page.get_by_role("heading", level=1)).to_contain_text("受付票")
    consent = Consent.objects.get(record=record)
    page.context.clear_cookies()

    as_user(page, "supervisor")
    open_holder(page, record)
    page.get_by_role("link", name="受付を取り下げる（誤って受け付けた場合）").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("誤って受け付けた同意の受付取下げ")
    assert axe(page) == []
    page.get_by_label("取下げの理由").fill("提供する事項の選択を誤ったため")
    page.get_by_role("button", name="次へ").click()
    expect(page.get_by_test_id("withdraw-confirm")).to_contain_text(f"同意 {consent.reference} の受付を取り下げますか")
    assert axe(page) == []
    screenshot(page, "23-withdraw-confirm")
    page.get_by_role("button", name="はい、受付を取り下げます").click()

    expect(page.locator("ul.messages")).to_contain_text("同意の受付を取り下げました")
    history = page.get_by_test_id("consent-history")
    expect(history).to_contain_text(consent.reference)
    expect(history.get_by_test_id("withdrawn")).to_contain_text("提供する事項の選択を誤ったため")
    expect(page.get_by_test_id("consent-state")).to_have_text("この方の同意は登録されていません。")
    assert axe(page) == []
    consent.refresh_from_db()
    assert consent.status == "withdrawn"
