"""The terminal's signing desk (terminal/signing.py) with the virtual card on a real pcscd: what it
refuses before the card is asked anything. The server is not reached in these tests (no signing
here posts anything); its client points at a closed port."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

import pytest

from terminal.server import ServerClient, Statement
from terminal.signing import AlreadySigned, Desk, LastTryNotConfirmed
from tests.pcsc_fixtures import READER, SIGNING_PIN

pytestmark = pytest.mark.pcsc

TEXT = "住所変更ワンストップサービス等 利用開始の同意\n確認番号: test\n"


def desk() -> Desk:
    from terminal.reader import open_card

    return Desk(ServerClient("http://127.0.0.1:9", "ost_test"), functools.partial(open_card, READER))


def statement() -> Statement:
    data = TEXT.encode()
    now = datetime.now(UTC)
    return Statement(7, TEXT, data, ["address"], now, now + timedelta(minutes=15), used=False)


def test_with_one_try_left_the_pin_is_not_sent_until_the_clerk_confirms(virtual_card):
    card = virtual_card(sign_tries=1)
    with pytest.raises(LastTryNotConfirmed):
        desk().sign(statement(), "WRONG123", last_try_confirmed=False)
    assert "00 20 00 80 +data" not in card.state()["commands"]
    assert card.state()["sign_tries"] == 1
    signed = desk().sign(statement(), SIGNING_PIN, last_try_confirmed=True)
    assert signed.certificate == card.card.certificate_der
    assert card.state()["sign_tries"] == 5


def test_a_statement_signed_and_not_yet_delivered_is_never_signed_again(virtual_card):
    card = virtual_card()
    counter = desk()
    first = counter.sign(statement(), SIGNING_PIN, last_try_confirmed=False)
    with pytest.raises(AlreadySigned):
        counter.sign(statement(), SIGNING_PIN, last_try_confirmed=False)
    assert card.state()["signatures"] == 1
    assert counter.undelivered[7] == first


def test_without_root_the_card_tests_say_why_they_cannot_run(monkeypatch):
    from tests.services import missing_pcsc

    monkeypatch.setattr("os.geteuid", lambda: 1000)
    assert "needs root" in (missing_pcsc() or "")
