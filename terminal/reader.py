"""The card reader through PC/SC (pcscd on Linux, WinSCard on Windows), with pyscard's `scard`
module: the calls of the PC/SC specification, each failure turned into the terminal's CardError.

pyscard is the `terminal` extra of pyproject.toml (it builds against pcsc-lite).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from smartcard import scard

from .card import CardError, CardRemoved, JpkiCard, NoCard, NoReader

# The card went away (or was reset by someone else) between two commands.
GONE = {
    scard.SCARD_W_REMOVED_CARD,
    scard.SCARD_E_NO_SMARTCARD,
    scard.SCARD_W_RESET_CARD,
    scard.SCARD_W_UNPOWERED_CARD,
    scard.SCARD_E_NOT_TRANSACTED,
    scard.SCARD_E_READER_UNAVAILABLE,
    scard.SCARD_E_COMM_DATA_LOST,
}


class CardBusy(CardError):
    code = "card_busy"


class PcscLink:
    """One exclusive connection to the card in one reader."""

    def __init__(self, handle: int, protocol: int) -> None:
        self.handle, self.protocol = handle, protocol

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        result, answer = scard.SCardTransmit(self.handle, self.protocol, list(apdu))
        if result != scard.SCARD_S_SUCCESS:
            if result in GONE:
                raise CardRemoved(scard.SCardGetErrorMessage(result))
            raise CardError(scard.SCardGetErrorMessage(result))
        if len(answer) < 2:
            raise CardRemoved("the card answered nothing")
        return bytes(answer[:-2]), (answer[-2] << 8) | answer[-1]


def reader_names(context: int) -> list[str]:
    result, names = scard.SCardListReaders(context, [])
    if result == scard.SCARD_E_NO_READERS_AVAILABLE or (result == scard.SCARD_S_SUCCESS and not names):
        raise NoReader("no card reader is connected")
    if result != scard.SCARD_S_SUCCESS:
        raise NoReader(scard.SCardGetErrorMessage(result))
    return list(names)


@contextmanager
def open_card(reader: str | None = None) -> Iterator[JpkiCard]:
    """The card on the reader (the named one, else the first holding a card), connected alone
    (SCARD_SHARE_EXCLUSIVE: no other program talks to it meanwhile) and reset when let go
    (SCARD_RESET_CARD: a verified PIN does not outlive the signing)."""
    result, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if result != scard.SCARD_S_SUCCESS:
        raise NoReader("the PC/SC service is not running: " + scard.SCardGetErrorMessage(result))
    try:
        names = reader_names(context)
        if reader is not None:
            if reader not in names:
                raise NoReader(f"no reader named {reader}")
            names = [reader]
        handle, protocol = _connect(context, names)
        try:
            yield JpkiCard(PcscLink(handle, protocol))
        finally:
            scard.SCardDisconnect(handle, scard.SCARD_RESET_CARD)
    finally:
        scard.SCardReleaseContext(context)


def _connect(context: int, names: list[str]) -> tuple[int, int]:
    busy = False
    for name in names:
        result, handle, protocol = scard.SCardConnect(
            context, name, scard.SCARD_SHARE_EXCLUSIVE, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
        )
        if result == scard.SCARD_S_SUCCESS:
            return handle, {scard.SCARD_PROTOCOL_T0: scard.SCARD_PCI_T0}.get(protocol, scard.SCARD_PCI_T1)
        busy = busy or result == scard.SCARD_E_SHARING_VIOLATION
    if busy:
        raise CardBusy("another program is using the card")
    raise NoCard("no card on the reader")
