"""JPKI: verifying consent signatures made with a My Number card's signing certificate.

The names below load lazily, so `consents.jpki.testcard` and `.profile` stay importable before
Django's apps are ready (the J-LIS simulator and the settings-free tools use them).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .errors import JpkiError, JpkiErrorCode
    from .verify import ConsentSignatureVerifier, VerifiedSignature, verify_consent_signature

_EXPORTS = {
    "JpkiError": ".errors",
    "JpkiErrorCode": ".errors",
    "ConsentSignatureVerifier": ".verify",
    "VerifiedSignature": ".verify",
    "verify_consent_signature": ".verify",
}
__all__ = [
    "ConsentSignatureVerifier",
    "JpkiError",
    "JpkiErrorCode",
    "VerifiedSignature",
    "verify_consent_signature",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
