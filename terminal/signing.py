"""The signing at the counter: the card signs a statement once, the terminal delivers it.

What the terminal keeps between two screens is in memory only and only until delivered: the
signature, the certificate and the Idempotency-Key of a statement signed but not yet answered by
the server. A retry sends exactly that request again (same body, same key); the card is never
asked to sign a statement twice. The PIN goes from the form to the card and is kept nowhere.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import NameOID

from .card import CardError, JpkiCard, PinBlocked, normalised_pin
from .server import Registered, ServerClient, ServerRefused, ServerUnreachable, Statement

log = logging.getLogger("terminal")

# Answers that did nothing and ask for the same request again (the server keeps none of them).
RETRYABLE = frozenset({"in_progress", "throttled"})

CardOpener = Callable[[], AbstractContextManager[JpkiCard]]


class LastTryNotConfirmed(CardError):
    """One try is left: a wrong PIN now blocks the card, so the clerk confirms first."""

    code = "last_try_not_confirmed"


class AuthenticationCertificate(CardError):
    """The card offered the user-authentication certificate where the signing one belongs."""

    code = "authentication_certificate"


class AlreadySigned(Exception):
    """This statement was signed and is waiting to be delivered: send it again, never re-sign."""


@dataclass(frozen=True)
class Signed:
    statement_id: int
    signature: bytes
    certificate: bytes
    idempotency_key: str


def is_user_authentication_certificate(certificate_der: bytes) -> bool:
    """The JPKI user-authentication certificate: issued by the CA "JPKI for user authentication",
    or without the nonRepudiation key usage every signing certificate has."""
    try:
        certificate = x509.load_der_x509_certificate(certificate_der)
    except ValueError:
        return False  # unreadable: the server says so in its own words
    units = [a.value for a in certificate.issuer.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)]
    if any("user authentication" in str(unit).lower() for unit in units):
        return True
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return False
    return not usage.content_commitment


class Desk:
    """The terminal's state between screens, for one counter (one card reader)."""

    def __init__(self, client: ServerClient, open_card: CardOpener) -> None:
        self.client, self.open_card = client, open_card
        self.lock = threading.Lock()  # one signing at a time: one card, one holder
        self.undelivered: dict[int, Signed] = {}
        self.results: dict[int, Registered] = {}

    def tries_left(self) -> int:
        """The signing PIN's tries left on the card now on the reader (CardError if none)."""
        with self.lock, self.open_card() as card:
            card.select_application()
            return card.signing_pin_tries()

    def sign(self, statement: Statement, pin: str, *, last_try_confirmed: bool) -> Signed:
        """Verify the PIN, read the signing certificate and sign the statement's bytes, once."""
        normalised_pin(pin)  # a malformed PIN never reaches the card
        with self.lock:
            if statement.id in self.undelivered:
                raise AlreadySigned(str(statement.id))
            with self.open_card() as card:
                card.select_application()
                tries = card.signing_pin_tries()
                if tries == 0:
                    raise PinBlocked("the signing PIN is blocked")
                if tries == 1 and not last_try_confirmed:
                    raise LastTryNotConfirmed("one try left")
                card.verify_signing_pin(pin)
                certificate = card.read_signing_certificate()
                if is_user_authentication_certificate(certificate):
                    raise AuthenticationCertificate("the user-authentication certificate was offered")
                signature = card.sign(statement.data)
            signed = Signed(statement.id, signature, certificate, uuid.uuid4().hex)
            self.undelivered[statement.id] = signed
            log.info("statement %s signed by the card", statement.id)
            return signed

    def deliver(self, statement_id: int, language: str) -> Registered:
        """Post the signature; on no answer keep it for `deliver` again with the same key."""
        with self.lock:
            signed = self.undelivered[statement_id]
            try:
                registered = self.client.register(
                    statement_id,
                    signature=signed.signature,
                    certificate=signed.certificate,
                    key=signed.idempotency_key,
                    language=language,
                )
            except ServerUnreachable as exc:
                log.warning("statement %s: the server did not answer (%s); kept for a retry", statement_id, exc)
                raise
            except ServerRefused as exc:
                if exc.code in RETRYABLE:
                    log.warning("statement %s: the server asks for a retry (%s); kept", statement_id, exc.code)
                    raise ServerUnreachable(exc.code) from None
                # A definite answer: nothing was registered, and this signature is done with.
                del self.undelivered[statement_id]
                log.info("statement %s: refused by the server (%s)", statement_id, exc.code)
                raise
            del self.undelivered[statement_id]
            self.results[statement_id] = registered
            log.info("statement %s: registered, %s", statement_id, registered.status)
            return registered
