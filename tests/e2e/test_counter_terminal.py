"""The counter terminal end to end: a clerk makes the statement in the browser, the holder signs it
on the terminal's screen (`python -m terminal`, a real process) with the virtual JPKI card on a
real pcscd, the live server registers the consent pending, and the clerk's receipt shows it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from consents.models import Consent, ConsentStatus
from driver_records.models import DriverRecord
from onestop.demo import DEMO_LOGINS
from tests.e2e.conftest import log_in
from tests.e2e.counter_terminal import holder_screen, tokyo_counter
from tests.pcsc_fixtures import SIGNING_PIN

pytestmark = [pytest.mark.pcsc, pytest.mark.redis]
LOGINS = {login.username: login for login in DEMO_LOGINS}


@pytest.fixture
def counter(live_server, virtual_card, start_terminal):
    """The demo's Tokyo counter with its terminal running, and the holder's card on the reader."""
    desk = tokyo_counter()
    card = virtual_card(desk.holder)
    terminal = start_terminal(live_server.url, desk.token)
    return desk.record, card, terminal


def make_statement(page, record: DriverRecord) -> str:
    login = LOGINS["clerk"]
    log_in(page, login.username, login.password, login.totp_key)
    page.goto("/counter/")
    page.get_by_label("免許証番号等または氏名").fill(record.number)
    page.get_by_role("button", name="検索").click()  # an exact record number opens the holder's page
    page.wait_for_url(f"**/counter/records/{record.pk}/")
    page.get_by_label("住所").check()
    page.get_by_label("氏名").check()
    page.get_by_role("button", name="署名する同意文を作成").click()
    return page.get_by_test_id("statement-id").inner_text().strip()


def test_the_holder_signs_on_the_terminal_and_the_clerk_sees_the_pending_consent(
    page, browser, counter, screenshot, axe
):
    record, card, terminal = counter
    statement_id = make_statement(page, record)

    context, screen = holder_screen(browser)
    screen.goto(terminal.url + "/")
    expect(screen.get_by_role("heading", level=1)).to_have_text("署名する同意文")
    assert axe(screen) == []
    screen.get_by_role("link", name=f"{statement_id} 番").click()

    expect(screen.get_by_test_id("statement-text")).to_contain_text("利用開始の同意")
    expect(screen.get_by_test_id("statement-text")).to_contain_text(record.number)
    expect(screen.get_by_test_id("tries")).to_contain_text("5")
    screen.get_by_label("署名用電子証明書のパスワード（英数字6～16文字）").fill(SIGNING_PIN)
    screenshot(screen, "17-terminal-holder-screen")
    assert axe(screen) == []
    screen.get_by_role("button", name="マイナンバーカードで署名する").click()

    expect(screen.get_by_test_id("result")).to_contain_text("同意を受け付けました")
    expect(screen.get_by_test_id("status")).to_have_text("受付済み（J-LIS反映待ち）")
    consent = Consent.objects.get(record=record)
    expect(screen.get_by_test_id("reference")).to_have_text(consent.reference)
    assert consent.status == ConsentStatus.PENDING
    assert consent.statement_id == int(statement_id)
    assert card.state()["signatures"] == 1
    screenshot(screen, "18-terminal-consent-received")
    assert axe(screen) == []
    assert SIGNING_PIN not in terminal.log_text()

    # The clerk's screen follows the terminal by itself: the receipt, pending, without a click.
    expect(page.get_by_role("heading", level=1)).to_contain_text("受付票", timeout=30_000)
    expect(page.get_by_text("J-LIS反映待ち").first).to_be_visible()
    expect(page.get_by_text(consent.reference).first).to_be_visible()
    context.close()


def test_the_holders_screen_is_in_english_too(page, browser, counter, axe):
    record, _card, terminal = counter
    statement_id = make_statement(page, record)
    context, screen = holder_screen(browser, locale="en-GB")
    screen.goto(terminal.url + "/")
    screen.get_by_role("link", name="English").click()
    expect(screen.get_by_role("heading", level=1)).to_have_text("Statements to sign")
    screen.get_by_role("link", name=f"No. {statement_id}").click()
    expect(screen.get_by_label("Signing password (6 to 16 letters and digits)")).to_be_visible()
    expect(screen.get_by_role("button", name="Sign with the My Number card")).to_be_visible()
    assert axe(screen) == []
    context.close()
