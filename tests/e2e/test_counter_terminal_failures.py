"""Each way a signing at the counter terminal can fail: the holder's screen says what happened and
what to do, and nothing is signed twice (the virtual card counts its signatures; the server its
consents). The terminal is a real process on a real pcscd with the virtual JPKI card, against a
live server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from consents.models import Consent, ConsentStatement
from consents.services import consent_register
from tests.e2e.counter_terminal import AnswerLosingProxy, holder_screen, tokyo_counter
from tests.pcsc_fixtures import SIGNING_PIN

pytestmark = [pytest.mark.pcsc, pytest.mark.redis]

PIN_LABEL = "署名用電子証明書のパスワード（英数字6～16文字）"
SIGN = "マイナンバーカードで署名する"


@pytest.fixture
def desk(live_server):
    return tokyo_counter()


@pytest.fixture
def screen(browser):
    context, page = holder_screen(browser)
    yield page
    context.close()


def open_statement(screen, terminal, statement) -> None:
    screen.goto(f"{terminal.url}/statements/{statement.pk}/")
    expect(screen.get_by_test_id("statement-text")).to_contain_text(statement.nonce)


def sign(screen, pin: str = SIGNING_PIN) -> None:
    screen.get_by_label(PIN_LABEL).fill(pin)
    screen.get_by_role("button", name=SIGN).click()


def test_no_reader_service_says_so(desk, screen, live_server, start_terminal, tmp_path):
    terminal = start_terminal(live_server.url, desk.token, pcsc_socket=tmp_path / "no-pcscd.comm")
    open_statement(screen, terminal, desk.statement())
    expect(screen.get_by_test_id("card-problem")).to_contain_text("カードリーダーが見つかりません")
    expect(screen.get_by_label(PIN_LABEL)).to_have_count(0)


def test_no_card_on_the_reader_says_so(desk, screen, live_server, start_terminal, virtual_card):
    card = virtual_card(desk.holder, insert=False)
    terminal = start_terminal(live_server.url, desk.token)
    statement = desk.statement()
    open_statement(screen, terminal, statement)
    expect(screen.get_by_test_id("card-problem")).to_contain_text("カードリーダーにカードがありません")
    # Once the card is on the reader, checking again offers the signing.
    card.insert()
    screen.get_by_role("link", name="カードをもう一度確認する").click()
    expect(screen.get_by_label(PIN_LABEL)).to_be_visible()


def test_the_card_taken_off_mid_signing_signs_nothing_and_a_second_go_registers_once(
    desk, screen, live_server, start_terminal, virtual_card
):
    card = virtual_card(desk.holder)
    terminal = start_terminal(live_server.url, desk.token)
    statement = desk.statement()
    open_statement(screen, terminal, statement)
    card.remove_on(0x2A)  # taken off when the signature command arrives
    sign(screen)
    expect(screen.get_by_test_id("notice")).to_contain_text("署名が終わる前にカードがカードリーダーから離れました")
    assert card.state()["signatures"] == 0
    assert not Consent.objects.filter(record=desk.record).exists()

    card.insert()
    screen.get_by_role("link", name="カードをもう一度確認する").click()
    sign(screen)
    expect(screen.get_by_test_id("result")).to_be_visible()
    assert card.state()["signatures"] == 1
    assert Consent.objects.filter(record=desk.record).count() == 1


def test_a_wrong_pin_shows_the_tries_left_and_signs_nothing(desk, screen, live_server, start_terminal, virtual_card):
    card = virtual_card(desk.holder)
    terminal = start_terminal(live_server.url, desk.token)
    open_statement(screen, terminal, desk.statement())
    sign(screen, "WRONG123")
    expect(screen.get_by_test_id("notice")).to_contain_text("署名用パスワードが違います")
    expect(screen.get_by_test_id("tries-left")).to_have_text("残り 4 回です。")
    expect(screen.get_by_test_id("tries")).to_contain_text("4")
    assert card.state()["sign_tries"] == 4
    assert card.state()["signatures"] == 0
    assert "WRONG123" not in terminal.log_text()
    assert not Consent.objects.filter(record=desk.record).exists()


def test_the_last_try_needs_the_clerks_confirmation_and_a_wrong_pin_then_blocks(
    desk, screen, live_server, start_terminal, virtual_card
):
    card = virtual_card(desk.holder, sign_tries=1)
    terminal = start_terminal(live_server.url, desk.token)
    statement = desk.statement()
    open_statement(screen, terminal, statement)
    expect(screen.get_by_test_id("last-try")).to_contain_text("残りはあと1回です")
    confirmation = screen.get_by_label("（窓口職員）最後の1回であることをご本人に伝えました。")
    expect(confirmation).to_have_attribute("required", "")
    confirmation.check()
    sign(screen, "WRONG123")
    expect(screen.get_by_test_id("notice")).to_contain_text("ロックされています")
    expect(screen.get_by_test_id("card-problem")).to_contain_text("市区町村の窓口")
    expect(screen.get_by_label(PIN_LABEL)).to_have_count(0)
    assert card.state()["sign_tries"] == 0
    assert card.state()["signatures"] == 0


def test_a_blocked_card_is_not_asked_for_its_pin(desk, screen, live_server, start_terminal, virtual_card):
    card = virtual_card(desk.holder, sign_tries=0)
    terminal = start_terminal(live_server.url, desk.token)
    open_statement(screen, terminal, desk.statement())
    expect(screen.get_by_test_id("card-problem")).to_contain_text("ロックされています")
    expect(screen.get_by_label(PIN_LABEL)).to_have_count(0)
    assert "00 20 00 80 +data" not in card.state()["commands"]  # no PIN was sent
    assert card.state()["sign_tries"] == 0


def test_a_card_that_is_not_a_my_number_card_says_so(desk, screen, live_server, start_terminal, virtual_card):
    virtual_card(desk.holder, jpki=False)
    terminal = start_terminal(live_server.url, desk.token)
    open_statement(screen, terminal, desk.statement())
    expect(screen.get_by_test_id("card-problem")).to_contain_text("マイナンバーカードではありません")


def test_the_authentication_certificate_offered_signs_nothing(desk, screen, live_server, start_terminal, virtual_card):
    card = virtual_card(desk.holder, auth_in_signing_slot=True)
    terminal = start_terminal(live_server.url, desk.token)
    open_statement(screen, terminal, desk.statement())
    sign(screen)
    expect(screen.get_by_test_id("notice")).to_contain_text("利用者証明用電子証明書")
    assert card.state()["signatures"] == 0
    assert not Consent.objects.filter(record=desk.record).exists()


def test_a_certificate_the_server_refuses_shows_its_reason(
    desk, screen, live_server, start_terminal, virtual_card, jpki_hierarchy, jpki_card_key
):
    expired = jpki_hierarchy.issue_expired_card(desk.holder, key=jpki_card_key)
    card = virtual_card(signing_card=expired)
    terminal = start_terminal(live_server.url, desk.token)
    open_statement(screen, terminal, desk.statement())
    sign(screen)
    notice = screen.get_by_test_id("notice")
    expect(notice).to_contain_text("署名の時点で署名用電子証明書が有効期間外でした")  # the server's words
    expect(notice).to_contain_text("何も登録されていません")
    assert card.state()["signatures"] == 1
    assert not Consent.objects.filter(record=desk.record).exists()


def test_an_answer_lost_on_the_way_is_asked_again_with_the_same_key_and_registers_once(
    desk, screen, live_server, start_terminal, virtual_card
):
    proxy = AnswerLosingProxy(live_server.url)
    try:
        card = virtual_card(desk.holder)
        terminal = start_terminal(proxy.url, desk.token)
        open_statement(screen, terminal, desk.statement())
        sign(screen)
        expect(screen.get_by_test_id("notice")).to_contain_text("署名を送信できませんでした")
        expect(screen.get_by_test_id("undelivered")).to_be_visible()
        screen.get_by_role("button", name="同じ署名をもう一度送信する").click()
        expect(screen.get_by_test_id("result")).to_be_visible()
    finally:
        proxy.close()
    consent = Consent.objects.get(record=desk.record)
    expect(screen.get_by_test_id("reference")).to_have_text(consent.reference)
    assert card.state()["signatures"] == 1
    (first_key, first_body), (second_key, second_body) = proxy.signature_posts
    assert first_key == second_key and first_body == second_body


def test_a_statement_that_expired_meanwhile_is_not_signed(desk, screen, live_server, start_terminal, virtual_card):
    card = virtual_card(desk.holder)
    terminal = start_terminal(live_server.url, desk.token)
    statement = desk.statement()
    open_statement(screen, terminal, statement)
    ConsentStatement.objects.filter(pk=statement.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    sign(screen)
    expect(screen.get_by_test_id("statement-state")).to_contain_text("有効期限が切れました")
    assert card.state()["signatures"] == 0


def test_a_statement_used_meanwhile_is_not_signed_again(
    desk, screen, live_server, start_terminal, virtual_card, jpki_hierarchy, jpki_card_key
):
    card = virtual_card(desk.holder)
    terminal = start_terminal(live_server.url, desk.token)
    statement = desk.statement()
    open_statement(screen, terminal, statement)
    # Signed meanwhile elsewhere (another terminal of the office).
    other = jpki_hierarchy.issue_card(desk.holder, key=jpki_card_key)
    consent_register(
        statement_id=statement.pk,
        signature=other.sign(statement.text.encode()),
        certificate_der=other.certificate_der,
        actor=desk.clerk,
    )
    sign(screen)
    expect(screen.get_by_test_id("statement-state")).to_contain_text("署名・登録済みです")
    assert card.state()["signatures"] == 0
    assert Consent.objects.filter(record=desk.record).count() == 1
