"""A virtual My Number card's JPKI application, on the card side of vsmartcard's vpcd socket.

Run as a process (`python -m tests.terminal.virtual_card CARD.json`): it connects to vpcd (the
virtual reader in pcscd) like a card put on the reader, and answers each command APDU the way a
JPKI card does. Its standard input takes control lines, its standard output answers them (one
JSON object a line):

    insert            put the card on the reader (connect to vpcd)
    remove            take it off (close the connection)
    remove_on 2A      take it off when the next command with this INS arrives, unanswered
    state             {"present", "sign_tries", "auth_tries", "signatures", "commands"}
                      (commands: "CLA INS P1 P2", plus " +data" when it carried data)
    quit

The commands and their answers, with their public sources, are in docs/jpki-card.md: OpenSC's
JPKI driver (src/libopensc/card-jpki.c, pkcs15-jpki.c, jpki.h) and the myna tool
(libmyna/reader.go, jpki_ap.go). What this card models of a real one:
- the JPKI application under its AID, and its elementary files: the certificates (auth 000A,
  signing 0001, their CAs 000B and 0002), the keys (auth 0017, signing 001A) and the PINs
  (auth 0018, signing 001B);
- the signing certificate is read only once the signing PIN is verified (OpenSC marks it a
  private object); signing needs the key's PIN verified too;
- a PIN counter kept by the card across power cycles (3 tries for auth, 5 for signing), reset by
  a right PIN, blocked at zero until the municipal office resets it (never here);
- the verified state lost at reset and power-off (pcscd resets the card when a program
  disconnects with SCARD_RESET_CARD);
- the signature: the card pads what it is given (the DigestInfo) with PKCS#1 v1.5 and applies the
  private key (OpenSC's driver declares RSA "hash none, PKCS#1 padding": the card hashes nothing).

Only the test hierarchy's keys ever go in (tests/terminal/conftest.py writes CARD.json). The PIN
values never appear in the command log this process keeps.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

# The ATR OpenSC's JPKI driver matches (card-jpki.c, jpki_atrs): T=1 only.
REPLACE_AFTER = 1.0  # seconds between taking the card off and putting it back (see VpcdCard.insert)
JPKI_ATR = bytes.fromhex("3BE000FF8131FE4514")
# An ATR no driver claims, for a card that is not a My Number card.
OTHER_ATR = bytes.fromhex("3B8F800180")
JPKI_AID = bytes.fromhex("D392F000260100000001")  # jpki.h, AID_JPKI

# vpcd's control bytes (a one-byte message from vpcd); anything longer is a command APDU.
VPCD_POWER_OFF, VPCD_POWER_ON, VPCD_RESET, VPCD_ATR = 0, 1, 2, 4

SW_OK = b"\x90\x00"
SW_END_OF_FILE = b"\x62\x82"  # fewer bytes than asked: the file ends
SW_WRONG_LENGTH = b"\x67\x00"
SW_SECURITY_NOT_SATISFIED = b"\x69\x82"
SW_AUTH_BLOCKED = b"\x69\x83"
SW_NO_CURRENT_EF = b"\x69\x86"
SW_FILE_NOT_FOUND = b"\x6a\x82"
SW_WRONG_P1P2 = b"\x6a\x86"
SW_OFFSET_OUTSIDE = b"\x6b\x00"
SW_INS_NOT_SUPPORTED = b"\x6d\x00"
SW_CLA_NOT_SUPPORTED = b"\x6e\x00"


@dataclass
class Pin:
    value: bytes
    tries_max: int
    tries_left: int = -1
    verified: bool = False

    def __post_init__(self) -> None:
        if self.tries_left < 0:
            self.tries_left = self.tries_max


@dataclass
class Key:
    private: rsa.RSAPrivateKey
    pin: str  # the PIN file that guards it


@dataclass
class JpkiCardState:
    """What the card keeps: files, PINs and counters (kept across power cycles), and the
    volatile state (selection, verified PINs) a reset clears."""

    binaries: dict[bytes, bytes]
    pins: dict[bytes, Pin]
    keys: dict[bytes, Key]
    binary_guards: dict[bytes, bytes]  # EF -> the PIN EF that must be verified to read it
    has_jpki: bool = True
    ap_selected: bool = False
    current_ef: bytes | None = None
    signatures: int = 0
    commands: list[str] = field(default_factory=list)

    def reset(self) -> None:
        self.ap_selected = False
        self.current_ef = None
        for pin in self.pins.values():
            pin.verified = False

    # --- the commands -------------------------------------------------------------------------

    def answer(self, apdu: bytes) -> bytes:
        if len(apdu) < 4:
            return SW_WRONG_LENGTH
        cla, ins, p1, p2 = apdu[:4]
        body, le = _parse(apdu)
        # Logged without the data (a VERIFY carries the PIN): only whether there was some.
        self.commands.append(f"{cla:02X} {ins:02X} {p1:02X} {p2:02X}" + (" +data" if body else ""))
        if ins == 0xA4 and cla == 0x00:
            return self._select(p1, p2, body)
        if ins == 0xB0 and cla == 0x00:
            return self._read_binary((p1 << 8) | p2, le)
        if ins == 0x20 and cla == 0x00:
            return self._verify(p1, p2, body)
        if ins == 0x2A and cla == 0x80:
            return self._sign(p1, p2, body)
        if cla not in (0x00, 0x80):
            return SW_CLA_NOT_SUPPORTED
        return SW_INS_NOT_SUPPORTED

    def _select(self, p1: int, p2: int, body: bytes | None) -> bytes:
        # card-jpki.c jpki_select_file: P1 4 = by DF name (the AP), 2 = by file id; P2 0C = no FCI.
        if p2 not in (0x00, 0x0C) or body is None:
            return SW_WRONG_P1P2
        if p1 == 0x04:
            if body == JPKI_AID and self.has_jpki:
                self.ap_selected, self.current_ef = True, None
                return SW_OK
            return SW_FILE_NOT_FOUND
        if p1 == 0x02:
            if self.ap_selected and (body in self.binaries or body in self.pins or body in self.keys):
                self.current_ef = body
                return SW_OK
            return SW_FILE_NOT_FOUND
        return SW_WRONG_P1P2

    def _read_binary(self, offset: int, le: int | None) -> bytes:
        if self.current_ef is None:
            return SW_NO_CURRENT_EF
        data = self.binaries.get(self.current_ef)
        if data is None:
            return SW_NO_CURRENT_EF  # a PIN or key file cannot be read
        guard = self.binary_guards.get(self.current_ef)
        if guard is not None and not self.pins[guard].verified:
            return SW_SECURITY_NOT_SATISFIED
        if offset >= len(data):
            return SW_OFFSET_OUTSIDE
        wanted = 256 if le in (None, 0) else le
        chunk = data[offset : offset + wanted]
        return chunk + (SW_OK if len(chunk) == wanted else SW_END_OF_FILE)

    def _verify(self, p1: int, p2: int, body: bytes | None) -> bytes:
        # card-jpki.c jpki_pin_cmd: 00 20 00 80 on the selected PIN file; without data it asks
        # for the tries left (63 Cx), with data it checks the PIN.
        if (p1, p2) != (0x00, 0x80):
            return SW_WRONG_P1P2
        pin = self.pins.get(self.current_ef or b"")
        if pin is None:
            return SW_NO_CURRENT_EF
        if body is None:
            return bytes([0x63, 0xC0 | pin.tries_left])
        if pin.tries_left == 0:
            return SW_AUTH_BLOCKED
        if body == pin.value:
            pin.tries_left, pin.verified = pin.tries_max, True
            return SW_OK
        pin.tries_left -= 1
        pin.verified = False
        return bytes([0x63, 0xC0 | pin.tries_left])

    def _sign(self, p1: int, p2: int, body: bytes | None) -> bytes:
        # card-jpki.c jpki_compute_signature: 80 2A 00 80 with the DigestInfo, on the key file
        # selected by jpki_set_security_env; the key's PIN must have been verified.
        if (p1, p2) != (0x00, 0x80):
            return SW_WRONG_P1P2
        key = self.keys.get(self.current_ef or b"")
        if key is None:
            return SW_NO_CURRENT_EF
        if not self.pins[bytes.fromhex(key.pin)].verified:
            return SW_SECURITY_NOT_SATISFIED
        if not body:
            return SW_WRONG_LENGTH
        size = (key.private.key_size + 7) // 8
        if len(body) > size - 11:
            return SW_WRONG_LENGTH
        # PKCS#1 v1.5 signature padding (block type 1) around whatever the terminal sent.
        block = b"\x00\x01" + b"\xff" * (size - 3 - len(body)) + b"\x00" + body
        numbers = key.private.private_numbers()
        signature = pow(int.from_bytes(block, "big"), numbers.d, numbers.public_numbers.n)
        self.signatures += 1
        return signature.to_bytes(size, "big") + SW_OK


def _parse(apdu: bytes) -> tuple[bytes | None, int | None]:
    """(data, Le) of a short command APDU (ISO 7816-3 cases 1-4)."""
    rest = apdu[4:]
    if not rest:
        return None, None
    if len(rest) == 1:
        return None, rest[0]
    lc = rest[0]
    data = rest[1 : 1 + lc]
    le = rest[1 + lc] if len(rest) > 1 + lc else None
    return data, le


def card_from(description: dict[str, Any]) -> JpkiCardState:
    """The card CARD.json describes: certificate files (DER), key files (PEM) and PINs."""

    def der(name: str) -> bytes:
        return Path(description[name]).read_bytes() if description.get(name) else b""

    def key(name: str) -> rsa.RSAPrivateKey:
        loaded = serialization.load_pem_private_key(Path(description[name]).read_bytes(), password=None)
        assert isinstance(loaded, rsa.RSAPrivateKey)
        return loaded

    sign_pin = Pin(description["sign_pin"].encode("ascii"), 5, description.get("sign_tries", 5))
    auth_pin = Pin(description["auth_pin"].encode("ascii"), 3, description.get("auth_tries", 3))
    return JpkiCardState(
        binaries={
            bytes.fromhex("000A"): der("auth_cert"),
            bytes.fromhex("0001"): der("sign_cert"),
            bytes.fromhex("000B"): der("auth_ca"),
            bytes.fromhex("0002"): der("sign_ca"),
        },
        pins={bytes.fromhex("0018"): auth_pin, bytes.fromhex("001B"): sign_pin},
        keys={
            bytes.fromhex("0017"): Key(key("auth_key"), "0018"),
            bytes.fromhex("001A"): Key(key("sign_key"), "001B"),
        },
        binary_guards={bytes.fromhex("0001"): bytes.fromhex("001B")},
        has_jpki=description.get("jpki", True),
    )


class VpcdCard:
    """The card's side of vpcd's socket: a 2-byte big-endian length, then the message."""

    def __init__(self, state: JpkiCardState, port: int, atr: bytes) -> None:
        self.state, self.port, self.atr = state, port, atr
        self.lock = threading.Lock()
        self.sock: socket.socket | None = None
        self.remove_on: int | None = None
        self.removed_at = -REPLACE_AFTER

    def insert(self) -> None:
        # A hand puts a card back a second or more after taking it off. pcscd looks at the reader
        # every 400 ms: a card back sooner goes unseen as gone, and the reader keeps the unknown
        # state that the failed reset on the terminal's disconnect left, card present or not.
        time.sleep(max(0.0, self.removed_at + REPLACE_AFTER - time.monotonic()))
        with self.lock:
            if self.sock is not None:
                return
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            self.sock.settimeout(None)
            self.state.reset()  # a card put on the reader starts unpowered
        threading.Thread(target=self._serve, args=(self.sock,), daemon=True).start()

    def remove(self) -> None:
        with self.lock:
            sock, self.sock = self.sock, None
            self.removed_at = time.monotonic()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _serve(self, sock: socket.socket) -> None:
        try:
            while True:
                message = _receive(sock)
                if message is None:
                    break
                answer = self._handle(message)
                if answer is None:
                    if len(message) > 1:  # removed mid-command: the reader gets no answer
                        self.remove()
                        return
                    continue
                sock.sendall(struct.pack(">H", len(answer)) + answer)
        except OSError:
            pass
        with self.lock:
            if self.sock is sock:
                self.sock = None

    def _handle(self, message: bytes) -> bytes | None:
        with self.lock:
            if len(message) == 1:
                if message[0] == VPCD_ATR:
                    return self.atr
                if message[0] in (VPCD_POWER_OFF, VPCD_RESET, VPCD_POWER_ON):
                    self.state.reset()
                return None
            if self.remove_on is not None and len(message) > 1 and message[1] == self.remove_on:
                self.remove_on = None
                self.state.commands.append(f"{message[0]:02X} {message[1]:02X} (removed before answering)")
                return None
            return self.state.answer(message)

    def report(self) -> dict[str, Any]:
        with self.lock:
            return {
                "present": self.sock is not None,
                "sign_tries": self.state.pins[bytes.fromhex("001B")].tries_left,
                "auth_tries": self.state.pins[bytes.fromhex("0018")].tries_left,
                "signatures": self.state.signatures,
                "commands": list(self.state.commands),
            }


def _receive(sock: socket.socket) -> bytes | None:
    header = _exactly(sock, 2)
    if header is None:
        return None
    (length,) = struct.unpack(">H", header)
    return _exactly(sock, length)


def _exactly(sock: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def main(path: str) -> None:
    description = json.loads(Path(path).read_text())
    card = VpcdCard(
        card_from(description),
        description["port"],
        JPKI_ATR if description.get("jpki", True) else OTHER_ATR,
    )
    for line in sys.stdin:
        command, *args = line.split()
        answer: dict[str, Any] = {"ok": True}
        if command == "insert":
            card.insert()
        elif command == "remove":
            card.remove()
        elif command == "remove_on":
            with card.lock:
                card.remove_on = int(args[0], 16)
        elif command == "state":
            answer = card.report()
        elif command == "quit":
            card.remove()
            print(json.dumps(answer), flush=True)
            return
        else:
            answer = {"ok": False, "error": f"unknown command {command}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
