"""The JPKI application of a My Number card: the commands the terminal sends, over any APDU link.

terminal.reader gives the link through PC/SC (pyscard). Each command cites its public source:
- OpenSC's JPKI driver: src/libopensc/card-jpki.c (select, PIN, security environment, signature),
  src/libopensc/pkcs15-jpki.c (which files hold what, PIN lengths and tries) and jpki.h (the AID
  and file ids) — https://github.com/OpenSC/OpenSC;
- the myna tool (libmyna/reader.go, jpki_ap.go) — https://github.com/jpki/myna — for reading a
  certificate by its DER header and for the signature's Le.
docs/jpki-card.md lists them with the answers the terminal expects.

A signing PIN is passed straight to the card and kept nowhere: not in this object, not in an
exception, not in a log line.
"""

from __future__ import annotations

import hashlib
import re
from typing import Protocol

# jpki.h: AID_JPKI, and the elementary files of the JPKI application.
JPKI_AID = bytes.fromhex("D392F000260100000001")
EF_SIGNING_CERTIFICATE = bytes.fromhex("0001")  # pkcs15-jpki.c: "Digital Signature Certificate"
EF_SIGNING_KEY = bytes.fromhex("001A")  # jpki.h: JPKI_SIGN_KEY
EF_SIGNING_PIN = bytes.fromhex("001B")  # jpki.h: JPKI_SIGN_PIN (5 tries: JPKI_SIGN_PIN_MAX_TRIES)
SIGNING_PIN_MAX_TRIES = 5
# pkcs15-jpki.c: the signing PIN has 6 to 16 characters; J-LIS issues it as capital letters and digits.
SIGNING_PIN = re.compile(r"^[A-Z0-9]{6,16}$")
# RFC 8017 section 9.2, note 1: the DER prefix of a SHA-256 DigestInfo.
SHA256_DIGEST_INFO_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")
READ_CHUNK = 256  # a short READ BINARY's largest answer (Le 00)

SW_OK = 0x9000
SW_END_OF_FILE = 0x6282


class Link(Protocol):
    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        """Send a command APDU; the answer's data and its status word (SW1 SW2 as one int)."""
        ...


class CardError(Exception):
    """Why the card could not do what was asked; `code` is what the terminal's screen explains."""

    code = "card_error"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.code)


class NoReader(CardError):
    code = "no_reader"


class NoCard(CardError):
    code = "no_card"


class CardRemoved(CardError):
    code = "card_removed"


class NotMyNumberCard(CardError):
    code = "not_my_number_card"


class PinFormat(CardError):
    code = "pin_format"


class WrongPin(CardError):
    code = "wrong_pin"

    def __init__(self, tries_left: int) -> None:
        self.tries_left = tries_left
        super().__init__(f"wrong signing PIN, {tries_left} tries left")


class PinBlocked(CardError):
    code = "pin_blocked"


class CardFailed(CardError):
    """The card answered a status word the commands do not expect."""

    code = "card_failed"

    def __init__(self, command: str, status: int) -> None:
        self.status = status
        super().__init__(f"{command}: status {status:04X}")


def normalised_pin(pin: str) -> str:
    """The PIN as the card holds it: capital letters and digits, 6 to 16 of them. Small letters
    are taken as capitals (the holder types on a keyboard); anything else is refused unsent."""
    candidate = pin.strip().upper() if pin.isascii() else ""
    if not SIGNING_PIN.match(candidate):
        raise PinFormat("the signing PIN has 6 to 16 letters and digits")
    return candidate


def digest_info(message: bytes) -> bytes:
    """What the card signs: the DER DigestInfo of the message's SHA-256 (RFC 8017, 9.2)."""
    return SHA256_DIGEST_INFO_PREFIX + hashlib.sha256(message).digest()


def certificate_length(header: bytes) -> int:
    """The whole DER length of a certificate from its first bytes (a SEQUENCE's tag and length):
    the file may be longer than the certificate it holds (card-jpki.c reads 4 bytes for this)."""
    if len(header) < 2 or header[0] != 0x30:
        raise CardFailed("READ BINARY (not a certificate)", SW_OK)
    first = header[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0 or count > 2 or len(header) < 2 + count:
        raise CardFailed("READ BINARY (certificate length)", SW_OK)
    return 2 + count + int.from_bytes(header[2 : 2 + count], "big")


class JpkiCard:
    """The JPKI application's signing commands. The caller owns the link (and resets the card
    when it lets go of it, so a verified PIN does not outlive the signing)."""

    def __init__(self, link: Link) -> None:
        self.link = link

    def _command(self, apdu: bytes) -> tuple[bytes, int]:
        return self.link.transmit(apdu)

    def select_application(self) -> None:
        """SELECT by DF name (00 A4 04 0C + AID): card-jpki.c jpki_select_ap / jpki_select_file
        (P1 4 = DF name, P2 0C = no answer data); myna reader.go SelectJPKIAP. A card without
        the JPKI application answers 6A82 (file not found, ISO 7816-4)."""
        _data, status = self._command(bytes([0x00, 0xA4, 0x04, 0x0C, len(JPKI_AID)]) + JPKI_AID)
        if status != SW_OK:
            raise NotMyNumberCard(f"SELECT JPKI AP: status {status:04X}")

    def _select_file(self, file_id: bytes, what: str) -> None:
        """SELECT by file id (00 A4 02 0C + 2 bytes): card-jpki.c jpki_select_file (P1 2)."""
        _data, status = self._command(bytes([0x00, 0xA4, 0x02, 0x0C, 2]) + file_id)
        if status != SW_OK:
            raise CardFailed(f"SELECT {what}", status)

    def signing_pin_tries(self) -> int:
        """How many signing-PIN tries are left, without spending one: SELECT 001B, then VERIFY
        with no data (00 20 00 80) answers 63 Cx, x the tries left (card-jpki.c jpki_pin_cmd,
        SC_PIN_CMD_GET_INFO; myna reader.go LookupPin)."""
        self._select_file(EF_SIGNING_PIN, "signing PIN")
        _data, status = self._command(bytes([0x00, 0x20, 0x00, 0x80]))
        if status >> 8 == 0x63:
            return status & 0x0F
        if status in (0x6983, 0x6984):  # ISO 7816-4: authentication method blocked / data not usable
            return 0
        raise CardFailed("VERIFY (tries left)", status)

    def verify_signing_pin(self, pin: str) -> None:
        """SELECT 001B, then VERIFY 00 20 00 80 with the PIN's ASCII bytes (card-jpki.c
        jpki_pin_cmd, SC_PIN_CMD_VERIFY). 90 00: verified. 63 Cx: wrong, x tries left
        (card-jpki.c reads sw2 & 0xF); 63 C0 or 69 83/69 84: blocked."""
        value = normalised_pin(pin).encode("ascii")
        self._select_file(EF_SIGNING_PIN, "signing PIN")
        _data, status = self._command(bytes([0x00, 0x20, 0x00, 0x80, len(value)]) + value)
        if status == SW_OK:
            return
        if status >> 8 == 0x63:
            tries = status & 0x0F
            if tries == 0:
                raise PinBlocked("the signing PIN is blocked")
            raise WrongPin(tries)
        if status in (0x6983, 0x6984):
            raise PinBlocked("the signing PIN is blocked")
        raise CardFailed("VERIFY (signing PIN)", status)

    def read_signing_certificate(self) -> bytes:
        """SELECT 0001, READ BINARY 00 B0 (offset) (Le) in pieces of at most 256 bytes. The first
        4 bytes give the certificate's DER length (card-jpki.c jpki_select_file reads them for the
        file size; myna jpki_ap.go ReadCertificate). The signing certificate is a private object
        (pkcs15-jpki.c flags it SC_PKCS15_CO_FLAG_PRIVATE): the card answers 69 82 until the
        signing PIN is verified."""
        self._select_file(EF_SIGNING_CERTIFICATE, "signing certificate")
        header = self._read_binary(0, 4)
        total = certificate_length(header)
        data = header
        while len(data) < total:
            data += self._read_binary(len(data), min(READ_CHUNK, total - len(data)))
        return data[:total]

    def _read_binary(self, offset: int, count: int) -> bytes:
        apdu = bytes([0x00, 0xB0, (offset >> 8) & 0x7F, offset & 0xFF, count & 0xFF])
        data, status = self._command(apdu)
        if status not in (SW_OK, SW_END_OF_FILE) or not data:
            raise CardFailed("READ BINARY", status)
        return data

    def sign(self, message: bytes) -> bytes:
        """SELECT the signing key 001A (card-jpki.c jpki_set_security_env, key_ref 2), then
        COMPUTE DIGITAL SIGNATURE 80 2A 00 80 with the SHA-256 DigestInfo and Le 00
        (card-jpki.c jpki_compute_signature; myna reader.go Signature). The card pads it with
        PKCS#1 v1.5 itself (jpki_init declares SC_ALGORITHM_RSA_HASH_NONE | PAD_PKCS1): the
        answer is the RSA signature, the modulus's length (256 bytes for RSA-2048)."""
        info = digest_info(message)
        self._select_file(EF_SIGNING_KEY, "signing key")
        signature, status = self._command(bytes([0x80, 0x2A, 0x00, 0x80, len(info)]) + info + b"\x00")
        if status != SW_OK or not signature:
            raise CardFailed("COMPUTE DIGITAL SIGNATURE", status)
        return signature
