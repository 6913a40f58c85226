"""Why a consent signature was refused: one stable code, and a message a clerk can explain.

Messages never carry personal data: they describe the certificate's problem, never its contents.
"""

from __future__ import annotations

from enum import StrEnum

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class JpkiErrorCode(StrEnum):
    UNREADABLE_INPUT = "unreadable_input"
    NOT_SIGNING_CERTIFICATE = "not_signing_certificate"
    CHAIN_NOT_TRUSTED = "chain_not_trusted"
    NOT_VALID_AT_SIGNING_TIME = "not_valid_at_signing_time"
    REVOKED = "revoked"
    REVOCATION_STATUS_UNKNOWN = "revocation_status_unknown"
    KEY_TOO_SMALL = "key_too_small"
    SIGNATURE_MISMATCH = "signature_mismatch"


MESSAGES: dict[JpkiErrorCode, Promise] = {
    JpkiErrorCode.UNREADABLE_INPUT: _(
        "The card's certificate or signature could not be read. Please sign again with the card."
    ),
    JpkiErrorCode.NOT_SIGNING_CERTIFICATE: _(
        "This is not the card's signing certificate. Please sign with the signing certificate "
        "(its password has 6 to 16 letters and digits), not the user-authentication one (4-digit PIN)."
    ),
    JpkiErrorCode.CHAIN_NOT_TRUSTED: _(
        "The certificate was not issued by a certificate authority this service trusts "
        "(the J-LIS public personal authentication service)."
    ),
    JpkiErrorCode.NOT_VALID_AT_SIGNING_TIME: _(
        "The signing certificate was not valid at the time of signing (it has expired or is not yet "
        "valid). The holder can have it renewed at the municipal office."
    ),
    JpkiErrorCode.REVOKED: _(
        "The signing certificate has been revoked (for example after a change of address or name). "
        "The holder needs a new signing certificate from the municipal office."
    ),
    JpkiErrorCode.REVOCATION_STATUS_UNKNOWN: _(
        "Whether the signing certificate has been revoked cannot be checked now: this service has no "
        "current list of revoked certificates (CRL) from the certificate authority. Nothing was registered "
        "or sent. Please try again later; if this persists, tell the system administrator."
    ),
    JpkiErrorCode.KEY_TOO_SMALL: _("The certificate's key is too short to be trusted (less than 2048 bits)."),
    JpkiErrorCode.SIGNATURE_MISMATCH: _(
        "The signature does not match the consent statement. Please have the holder sign the statement "
        "shown on the screen again."
    ),
}


class JpkiError(Exception):
    """A refused consent signature (R3). `code` is stable; `message` follows the active language."""

    def __init__(self, code: JpkiErrorCode, detail: str = "") -> None:
        self.code = code
        # For logs and developers only: never personal data, never shown to the holder.
        self.detail = detail
        super().__init__(code.value)

    def _in(self, language: str) -> str:
        with translation.override(language):
            return str(MESSAGES[self.code])

    @property
    def message_ja(self) -> str:
        return self._in("ja")

    @property
    def message_en(self) -> str:
        return self._in("en")

    @property
    def message(self) -> str:
        return str(MESSAGES[self.code])

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"JpkiError({self.code.value!r}, {self.detail!r})"
