"""Why a consent step was refused: one code per reason, each explained in plain words.

The codes are shared by the counter pages and the API (`{code, message}`); the signature codes
are those of consents.jpki.JpkiErrorCode, explained by its messages. Each explanation says what
happened and, where the clerk can act, what to do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from .jpki.errors import MESSAGES as JPKI_MESSAGES
from .jpki.errors import JpkiErrorCode

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

# R15: the service is stopped for the holder (a confirmed suspension, DriverRecord.service_stopped_at).
# The safeguards app shows the same words on its pages.
SERVICE_SUSPENDED = "service_suspended"
SERVICE_SUSPENDED_MESSAGE = _(
    "The service is stopped for this holder as a defensive measure (article 7 of the terms). "
    "No consent can be registered for them."
)

EXPLANATIONS: dict[str, StrPromise] = {
    # Starting (R1, R2, R4, R17).
    "not_eligible": _("This holder cannot use the one-stop service."),
    "wrong_prefecture": _(
        "Consent is given at a licence centre or police station of the holder's prefecture of residence, "
        "or through Mynaportal. This office is in another prefecture."
    ),
    "not_counter_staff": _("Only counter staff may do this."),
    "record_not_found": _("This driver record does not exist."),
    "no_office": _("Your account has no office. Ask an administrator to set your office."),
    "no_items": _("Choose at least one item (address, name or date of birth)."),
    "unknown_item": _("Only address, name and date of birth can be chosen."),
    "no_terms": _("No terms of use are in effect. An administrator must enter the current terms first."),
    SERVICE_SUSPENDED: SERVICE_SUSPENDED_MESSAGE,  # R15
    # The statement.
    "statement_not_found": _("This consent statement does not exist."),
    "statement_other_office": _("This consent statement was made at another office."),
    "statement_expired": _("The statement to sign has expired. Make a new one and have the holder sign it."),
    "statement_used": _("This statement has already been signed and registered. It cannot be used again."),
    "terms_changed": _(
        "New terms of use took effect after this statement was made. Make a new statement under the "
        "terms now in effect and have the holder sign it."
    ),
    # The signature (R3): the codes of consents.jpki.JpkiErrorCode explain themselves there.
    "holder_mismatch": _(
        "The date of birth in the signing certificate is not the date of birth of this record. "
        "Check that the holder and the record are the same person."
    ),
    "certificate_linked_elsewhere": _("This signing certificate is already linked to another record."),
    # Revocation (R9) and Mynaportal (R4, R13).
    "forbidden": _("Only a supervisor may do this."),
    "reason_required": _("Enter the reason."),
    "reason_too_long": _("The reason is too long (500 characters at most)."),
    "consent_not_found": _("This consent does not exist."),
    "not_revocable": _("Only a pending or active consent can be revoked."),
    # Withdrawing a pending consent taken by mistake (before J-LIS reflects it).
    "withdraw_reflected": _(
        "J-LIS has already reflected this consent, so it can no longer be withdrawn. Revoke it instead."
    ),
    "not_withdrawable": _("Only a consent waiting for J-LIS can be withdrawn."),
    "no_linked_certificate": _(
        "The record has no linked signing certificate yet. Mynaportal linkage needs a registered consent first."
    ),
    # J-LIS events not applied (kept and shown on the holder page).
    "no_mynaportal_link": _(
        "A consent or revocation arrived through Mynaportal, but no Mynaportal linkage is recorded for "
        "this holder, so it was not applied."
    ),
    # The API.
    "validation_error": _("The request is not valid."),
}


def explain(code: str) -> str:
    if code in EXPLANATIONS:
        return str(EXPLANATIONS[code])
    if code in JpkiErrorCode.__members__.values():
        return str(JPKI_MESSAGES[JpkiErrorCode(code)])
    return str(_("The request was refused."))


class ConsentRefused(Exception):
    """A consent step refused for a reason the clerk or the terminal can act on."""

    def __init__(self, code: str, message: str | None = None) -> None:
        self.code = code
        self.message = message or explain(code)
        super().__init__(f"{code}: {self.message}")
