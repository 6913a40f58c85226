"""A clerk at the counter: log in, find a holder, see why a two-card holder is refused."""

import re
from urllib.parse import unquote_plus

import pytest
from playwright.sync_api import expect

from onestop.audit_chain import audit_chain_link
from onestop.demo import DEMO_LOGINS, seed_demo
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)
CLERK = next(login for login in DEMO_LOGINS if login.username == "clerk")
SUPERVISOR = next(login for login in DEMO_LOGINS if login.username == "supervisor")
AUDITOR = next(login for login in DEMO_LOGINS if login.username == "auditor")


def test_clerk_logs_in_finds_a_holder_and_sees_the_two_card_refusal(page, screenshot, axe):
    seed_demo()
    from driver_records.models import DriverRecord

    two_cards = DriverRecord.objects.filter(holding_status="licence_both", prefecture="13").first()  # the clerk's
    page.goto("/")
    expect(page.get_by_role("heading", name="ログイン")).to_be_visible()
    screenshot(page, "01-login")
    assert axe(page) == []
    log_in(page, CLERK.username, CLERK.password, CLERK.totp_key)
    expect(page.get_by_role("heading", name="利用者検索")).to_be_visible()
    page.get_by_label("免許証番号等または氏名").fill(two_cards.number)
    page.keyboard.press("Enter")  # an exact record number opens the holder's page
    eligibility = page.get_by_test_id("eligibility")
    expect(eligibility).to_contain_text("2枚持ち")
    assert two_cards.number not in page.url  # the browser's history keeps no typed number
    expect(eligibility).to_contain_text("マイナ免許証のみの方だけ")
    screenshot(page, "03-holder-refused-two-cards")
    assert axe(page) == []


def test_search_page_is_usable_by_keyboard_alone(page, axe, screenshot):
    seed_demo()
    log_in(page, CLERK.username, CLERK.password, CLERK.totp_key)
    # The search field has the focus on arrival (waited for: the browser gives it at its next
    # rendering, which may come after the load event).
    expect(page.get_by_label("免許証番号等または氏名")).to_be_focused()
    page.keyboard.type("山田")
    page.keyboard.press("Enter")
    expect(page.get_by_role("table")).to_be_visible()
    # The results' address keeps nothing typed (counter PCs are shared: the browser's history).
    assert "山田" not in unquote_plus(page.url)
    # The results page gives the search field the focus again, with what was typed in it.
    expect(page.get_by_label("免許証番号等または氏名")).to_be_focused()
    expect(page.get_by_label("免許証番号等または氏名")).to_have_value("山田")
    screenshot(page, "02-search-results")
    assert axe(page) == []


def test_supervisor_passes_the_second_factor(page):
    seed_demo()
    log_in(page, SUPERVISOR.username, SUPERVISOR.password, SUPERVISOR.totp_key)
    expect(page.get_by_role("heading", name="利用者検索")).to_be_visible()


def test_auditor_reads_the_audit_trail_in_the_admin(page, screenshot, axe):
    seed_demo()
    log_in(page, CLERK.username, CLERK.password, CLERK.totp_key)
    page.get_by_label("免許証番号等または氏名").fill("山田")
    page.keyboard.press("Enter")
    page.get_by_role("table").get_by_role("link").first.click()
    page.get_by_role("button", name="ログアウト").click()
    audit_chain_link()  # as the worker does within seconds of each commit (none runs here)
    log_in(page, AUDITOR.username, AUDITOR.password, AUDITOR.totp_key)
    page.goto("/admin/onestop/auditevent/")
    expect(page.get_by_text("住所変更ワンストップサービス").first).to_be_visible()  # not Django's name
    # record.view or record.view_elsewhere (the first holder found may live in another prefecture), in words
    expect(page.get_by_text(re.compile("保有者ページの閲覧|他都道府県の保有者の照会")).first).to_be_visible()
    screenshot(page, "09-admin-audit-trail")
    assert axe(page) == []
    # A row's detail: every field, and its link to the row before in the chain.
    page.get_by_role("row", name=re.compile("保有者ページの閲覧|他都道府県の保有者の照会")).first.locator(
        "a"
    ).first.click()
    expect(page.get_by_text("この行のハッシュは内容と一致します")).to_be_visible()
    expect(page.get_by_text("record.view").first).to_be_visible()  # the code itself beside the words
    screenshot(page, "09b-admin-audit-detail")
    assert axe(page) == []


def test_clerk_sees_a_banner_while_jlis_cannot_be_read(page, axe):
    from jlis_gateway.models import PollState

    seed_demo()
    PollState.objects.update_or_create(name="events", defaults={"last_error": "GET /v1/events: HTTP 503 unavailable"})
    log_in(page, CLERK.username, CLERK.password, CLERK.totp_key)
    expect(page.get_by_test_id("jlis-banner")).to_contain_text("J-LISから情報を取得できていません")
    assert axe(page) == []
