"""The terminal's card layer (terminal/card.py over terminal/reader.py) against a virtual JPKI
card on a real pcscd, and OpenSC's JPKI driver reading the same card: a reader nobody here wrote.

The expected values come from outside the code under test: the certificate the test hierarchy
issued, the `cryptography` package's RSA verification, the PIN counts a JPKI card has (OpenSC's
jpki.h: 5 tries for the signing PIN) and what OpenSC reads.
"""

from __future__ import annotations

import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from terminal.card import CardFailed, NotMyNumberCard, PinBlocked, PinFormat, WrongPin
from tests.pcsc_fixtures import READER, SIGNING_PIN

pytestmark = pytest.mark.pcsc

STATEMENT = "私は、運転免許証の記載事項の変更について同意します。".encode()


def open_card(reader: str):
    # Imported here: pyscard is the `terminal` extra, and a run without it skips these tests.
    from terminal.reader import open_card as opened

    return opened(reader)


def opensc(*arguments: str) -> str:
    done = subprocess.run(["pkcs15-tool", "--reader", READER, *arguments], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_our_card_layer_signs_and_the_signature_verifies_against_the_certificate(virtual_card):
    card = virtual_card()
    with open_card(READER) as jpki:
        jpki.select_application()
        assert jpki.signing_pin_tries() == 5
        jpki.verify_signing_pin(SIGNING_PIN)
        certificate_der = jpki.read_signing_certificate()
        signature = jpki.sign(STATEMENT)

    assert certificate_der == card.card.certificate_der
    public_key = x509.load_der_x509_certificate(certificate_der).public_key()
    public_key.verify(signature, STATEMENT, padding.PKCS1v15(), hashes.SHA256())  # raises if it does not verify
    assert card.state()["signatures"] == 1


def test_a_wrong_pin_shows_the_tries_left_and_a_right_one_restores_them(virtual_card):
    card = virtual_card()
    with open_card(READER) as jpki:
        jpki.select_application()
        with pytest.raises(WrongPin) as first:
            jpki.verify_signing_pin("WRONG123")
        with pytest.raises(WrongPin) as second:
            jpki.verify_signing_pin("wrong456")
        assert (first.value.tries_left, second.value.tries_left) == (4, 3)
        assert jpki.signing_pin_tries() == 3
        assert "WRONG123" not in str(first.value) and "WRONG456" not in str(second.value)
    # The count is the card's: another program reads it after ours let go (and reset the card).
    assert "Tries left     : 3" in opensc("--list-pins").split("Digital Signature PIN")[1]
    with open_card(READER) as jpki:
        jpki.select_application()
        jpki.verify_signing_pin(SIGNING_PIN)
        assert jpki.signing_pin_tries() == 5
    assert card.state()["sign_tries"] == 5


def test_the_last_wrong_pin_blocks_the_card_for_good(virtual_card):
    card = virtual_card(sign_tries=1)
    with open_card(READER) as jpki:
        jpki.select_application()
        assert jpki.signing_pin_tries() == 1
        with pytest.raises(PinBlocked):
            jpki.verify_signing_pin("WRONG123")
        with pytest.raises(PinBlocked):  # the right PIN no longer opens it
            jpki.verify_signing_pin(SIGNING_PIN)
        assert jpki.signing_pin_tries() == 0
        with pytest.raises(CardFailed) as refused:
            jpki.sign(STATEMENT)
        assert refused.value.status == 0x6982  # security status not satisfied
    assert card.state()["signatures"] == 0


def test_the_signing_certificate_and_key_need_the_signing_pin(virtual_card):
    card = virtual_card()
    with open_card(READER) as jpki:
        jpki.select_application()
        with pytest.raises(CardFailed) as read:
            jpki.read_signing_certificate()
        with pytest.raises(CardFailed) as sign:
            jpki.sign(STATEMENT)
        jpki.verify_signing_pin(SIGNING_PIN)
    assert read.value.status == sign.value.status == 0x6982
    # Letting go resets the card: the next program finds the PIN unverified again.
    with open_card(READER) as jpki:
        jpki.select_application()
        with pytest.raises(CardFailed):
            jpki.sign(STATEMENT)
    assert card.state()["signatures"] == 0


def test_a_pin_that_is_not_6_to_16_letters_and_digits_never_reaches_the_card(virtual_card):
    card = virtual_card()
    with open_card(READER) as jpki:
        jpki.select_application()
        for pin in ("12345", "A" * 17, "ABC 123", "ＡＢＣ１２３", "ABC-123"):
            with pytest.raises(PinFormat):
                jpki.verify_signing_pin(pin)
    assert not any(command.startswith("00 20") for command in card.state()["commands"])
    assert card.state()["sign_tries"] == 5


def test_a_card_without_the_jpki_application_is_not_a_my_number_card(virtual_card):
    virtual_card(jpki=False)
    with open_card(READER) as jpki, pytest.raises(NotMyNumberCard):
        jpki.select_application()


def test_opensc_reads_the_virtual_cards_signing_certificate_through_its_jpki_driver(virtual_card):
    """OpenSC binds the card with its JPKI driver (by the ATR and the AP), lists the JPKI objects,
    and reads the signing certificate after the signing PIN (ID 02) is verified."""
    card = virtual_card()
    listing = opensc("--list-certificates", "--list-pins")
    assert "Digital Signature Certificate" in listing and "Digital Signature PIN" in listing
    assert "Tries left     : 5" in listing.split("Digital Signature PIN")[1]
    pem = opensc("--auth-id", "02", "--verify-pin", "--pin", SIGNING_PIN, "--read-certificate", "02")
    read = x509.load_pem_x509_certificate(pem[pem.index("-----BEGIN") :].encode())
    assert read.public_bytes(serialization.Encoding.DER) == card.card.certificate_der


def test_opensc_signs_with_the_virtual_card_and_the_signature_verifies(virtual_card, tmp_path):
    """The same signing key through OpenSC's PKCS#11 module (pkcs11-tool): the card's signature
    command as OpenSC's driver sends it verifies against the certificate."""
    card = virtual_card()
    message = tmp_path / "statement.txt"
    message.write_bytes(STATEMENT)
    signature = tmp_path / "statement.sig"
    done = subprocess.run(
        [
            "pkcs11-tool",
            "--module",
            "opensc-pkcs11.so",
            "--token-label",
            "JPKI (Digital Signature PIN)",
            "--login",
            "--pin",
            SIGNING_PIN,
            "--sign",
            "--mechanism",
            "SHA256-RSA-PKCS",
            "--id",
            "02",
            "--input-file",
            str(message),
            "--output-file",
            str(signature),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    card.card.certificate.public_key().verify(signature.read_bytes(), STATEMENT, padding.PKCS1v15(), hashes.SHA256())


def test_a_card_taken_off_mid_signing_and_put_straight_back_is_seen_again(virtual_card, pcscd):
    """The virtual hand puts the card back no sooner than a real one could: pcscd, polling the
    reader every 400 ms, sees it gone and then back, so the next signing finds it."""
    from terminal.reader import CardRemoved

    card = virtual_card()
    card.remove_on(0x2A)  # taken off when the signature command arrives
    with pytest.raises(CardRemoved), open_card(READER) as jpki:
        jpki.select_application()
        jpki.verify_signing_pin(SIGNING_PIN)
        jpki.sign(STATEMENT)
    assert card.state()["signatures"] == 0

    card.insert()  # at once: the card process itself waits as a hand would
    assert pcscd.card_present()
    with open_card(READER) as jpki:
        jpki.select_application()
        jpki.verify_signing_pin(SIGNING_PIN)
        jpki.sign(STATEMENT)
    assert card.state()["signatures"] == 1
