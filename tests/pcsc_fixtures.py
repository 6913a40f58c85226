"""A real PC/SC stack for the counter terminal's tests: pcscd with vsmartcard's virtual reader,
and a virtual JPKI card (tests/terminal/virtual_card.py) put on it.

Imported by tests/conftest.py. Mark the tests that use them `@pytest.mark.pcsc`.
- `pcscd` (session): Debian's pcscd in its own mount namespace (its /run/pcscd is a directory
  of this run, so parallel runs and a system pcscd do not collide: pcscd keeps its socket and pid
  file at fixed paths), reading its own reader.conf.d where vpcd waits for the card on a free
  port. PCSCLITE_CSOCK_NAME points this process and its children (the terminal, OpenSC's
  tools) at it.
- `virtual_card` (function): `virtual_card(holder=..., **options)` writes a card (JPKI-TEST
  signing certificate and key, authentication certificate and key, the CA certificates, PINs)
  and starts its process; `.insert()`, `.remove()`, `.remove_on(ins)`, `.state()`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from consents.jpki.testcard import CardHolder, TestCard, TestHierarchy, issue_certificate

from .services import VPCD_DRIVER

ROOT = Path(__file__).resolve().parent.parent
READER = "Virtual PCD 00 00"  # the first slot vpcd offers (the second, 00 01, stays empty)
SIGNING_PIN = "TEST2026"
AUTH_PIN = "1234"
TEST_HOLDER = CardHolder(
    name="試験　花子", address="東京都府中市多磨町１丁目１番地", birth_date=date(1990, 4, 1), sex="2"
)


def _free_port_pair() -> int:
    """A port p with p and p + 1 free: vpcd listens on both (its two slots)."""
    for _attempt in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port >= 65535:
            continue
        with socket.socket() as second:
            try:
                second.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two free consecutive ports")


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout:.0f}s for {what}")
        time.sleep(0.05)


@dataclass
class PcscDaemon:
    process: subprocess.Popen[bytes]
    socket_path: Path
    vpcd_port: int
    log: Path

    def reader_state(self, reader: str = READER) -> int:
        """The reader's event state (SCARD_STATE_* bits), as any PC/SC client sees it."""
        from smartcard import scard

        result, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        assert result == scard.SCARD_S_SUCCESS, scard.SCardGetErrorMessage(result)
        try:
            result, states = scard.SCardGetStatusChange(context, 0, [(reader, scard.SCARD_STATE_UNAWARE)])
            if result != scard.SCARD_S_SUCCESS:
                return 0
            return states[0][1]
        finally:
            scard.SCardReleaseContext(context)

    def card_present(self, reader: str = READER) -> bool:
        from smartcard import scard

        return bool(self.reader_state(reader) & scard.SCARD_STATE_PRESENT)


@pytest.fixture(scope="session")
def pcscd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PcscDaemon]:
    folder = tmp_path_factory.mktemp("pcscd")
    (folder / "run").mkdir()
    (folder / "reader.conf.d").mkdir()
    port = _free_port_pair()
    (folder / "reader.conf.d" / "vpcd").write_text(
        f'FRIENDLYNAME "Virtual PCD"\nDEVICENAME /dev/null:{port}\nLIBPATH {VPCD_DRIVER}\nCHANNELID {port}\n'
    )
    log = folder / "pcscd.log"
    # Without --apdu: pcscd would log every command, the VERIFY's PIN included.
    script = 'mkdir -p /run/pcscd && mount --bind "$1" /run/pcscd && exec pcscd --foreground --config "$2"'
    arguments = [folder / "run", folder / "reader.conf.d"]
    with open(log, "wb") as out:
        process = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", *arguments],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    socket_path = folder / "run" / "pcscd.comm"

    def listening() -> bool:
        if process.poll() is not None:
            pytest.fail(f"pcscd exited: {log.read_text()[-2000:]}")
        return socket_path.exists()

    _wait(listening, 30, "pcscd's socket")
    os.environ["PCSCLITE_CSOCK_NAME"] = str(socket_path)
    daemon = PcscDaemon(process, socket_path, port, log)
    _wait(lambda: daemon.reader_state() != 0, 30, "pcscd to list the virtual reader")
    yield daemon
    os.environ.pop("PCSCLITE_CSOCK_NAME", None)
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


class VirtualCard:
    """The card's process, driven through its standard input."""

    def __init__(self, process: subprocess.Popen[str], daemon: PcscDaemon, card: TestCard) -> None:
        self.process, self.daemon, self.card = process, daemon, card

    def _say(self, line: str) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            pytest.fail(f"the virtual card exited ({self.process.poll()})")
        return json.loads(answer)

    def insert(self) -> None:
        self._say("insert")
        _wait(self.daemon.card_present, 30, "pcscd to see the card")

    def remove(self) -> None:
        self._say("remove")
        _wait(lambda: not self.daemon.card_present(), 30, "pcscd to see the card gone")

    def remove_on(self, ins: int) -> None:
        """Take the card off when the next command with this INS arrives, before answering it."""
        self._say(f"remove_on {ins:02X}")

    def state(self) -> dict[str, Any]:
        return self._say("state")

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                self._say("quit")
                self.process.wait(10)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait(5)


@pytest.fixture(scope="session")
def auth_card_key() -> rsa.RSAPrivateKey:
    """The card's user-authentication key (another key than the signing one, as on a real card)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _der(certificate: Any) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


@pytest.fixture
def virtual_card(
    pcscd: PcscDaemon,
    tmp_path: Path,
    jpki_hierarchy: TestHierarchy,
    jpki_card_key: rsa.RSAPrivateKey,
    auth_card_key: rsa.RSAPrivateKey,
) -> Iterator[Callable[..., VirtualCard]]:
    """virtual_card(holder=TEST_HOLDER, signing_card=None, sign_tries=5, jpki=True, insert=True).

    The signing certificate is the JPKI-TEST hierarchy's (settings.JPKI_TRUST "test" trusts it)
    for `holder`, or `signing_card` when a test brings its own (an expired or revoked one...).
    `auth_in_signing_slot` puts the user-authentication certificate where the signing one goes.
    """
    started: list[VirtualCard] = []

    def start(
        holder: CardHolder = TEST_HOLDER,
        *,
        signing_card: TestCard | None = None,
        sign_tries: int = 5,
        jpki: bool = True,
        auth_in_signing_slot: bool = False,
        insert: bool = True,
    ) -> VirtualCard:
        card = signing_card or jpki_hierarchy.issue_card(holder, key=jpki_card_key)
        auth = issue_certificate(jpki_hierarchy.auth_ca, holder, key=auth_card_key, non_repudiation=False)
        folder = tmp_path / f"card-{len(started)}"
        folder.mkdir()
        files = {
            "sign_cert": _der(auth.certificate if auth_in_signing_slot else card.certificate),
            "auth_cert": _der(auth.certificate),
            "sign_ca": _der(jpki_hierarchy.signing_ca.certificate),
            "auth_ca": _der(jpki_hierarchy.auth_ca.certificate),
        }
        for name, data in files.items():
            (folder / f"{name}.der").write_bytes(data)
        for name, key in (("sign_key", auth.key if auth_in_signing_slot else card.key), ("auth_key", auth.key)):
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            (folder / f"{name}.pem").write_bytes(pem)
        description = {
            "port": pcscd.vpcd_port,
            "jpki": jpki,
            "sign_pin": SIGNING_PIN,
            "auth_pin": AUTH_PIN,
            "sign_tries": sign_tries,
            **{name: str(folder / f"{name}.der") for name in files},
            "sign_key": str(folder / "sign_key.pem"),
            "auth_key": str(folder / "auth_key.pem"),
        }
        (folder / "card.json").write_text(json.dumps(description))
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.terminal.virtual_card", str(folder / "card.json")],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        virtual = VirtualCard(process, pcscd, card)
        started.append(virtual)
        if insert:
            virtual.insert()
        return virtual

    yield start
    for virtual in started:
        virtual.stop()
    _wait(lambda: not pcscd.card_present(), 30, "pcscd to see the card gone")


@dataclass
class TerminalProcess:
    """`python -m terminal` as a counter PC runs it: its screen's URL and its log."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def start_terminal(pcscd: PcscDaemon, tmp_path: Path) -> Iterator[Callable[..., TerminalProcess]]:
    """start_terminal(server_url, token) -> the terminal, reading the virtual reader.

    `pcsc_socket` points it at another PC/SC service (a path where none runs: no reader service)."""
    from .jlis_fixtures import free_port

    started: list[TerminalProcess] = []

    def start(server_url: str, token: str, *, reader: str = READER, pcsc_socket: Path | None = None) -> TerminalProcess:
        port = free_port()
        log = tmp_path / f"terminal-{len(started)}.log"
        env = {
            **os.environ,
            "ONESTOP_TERMINAL_TOKEN": token,
            "PCSCLITE_CSOCK_NAME": str(pcsc_socket or pcscd.socket_path),
        }
        env.pop("DJANGO_SETTINGS_MODULE", None)
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "terminal", "--server", server_url, "--port", str(port), "--reader", reader],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        terminal = TerminalProcess(f"http://127.0.0.1:{port}", process, log)
        started.append(terminal)

        def ready() -> bool:
            if process.poll() is not None:
                pytest.fail(f"the terminal exited: {terminal.log_text()[-2000:]}")
            return "ready on" in terminal.log_text()

        _wait(ready, 60, "the terminal to serve its screen")
        return terminal

    yield start
    for terminal in started:
        terminal.process.terminate()
        try:
            terminal.process.wait(10)
        except subprocess.TimeoutExpired:
            terminal.process.kill()
            terminal.process.wait(5)
