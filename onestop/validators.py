"""R14: the police never collect a My Number (個人番号)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .my_number import contains_my_number, digits_only, my_number_check_digit
from .request_context import my_number_refusal_var

__all__ = ["NoMyNumber", "contains_my_number", "my_number_check_digit", "my_number_refusal", "search_refusal"]

SEARCH_LABEL = _("Search")


def my_number_refusal(field: str | Promise) -> str:
    """Why a field's text is refused (R14), naming the field; marks the request as carrying a
    My Number, so its answer (which may show the text again) is not kept (onestop.idempotency)."""
    note = my_number_refusal_var.get()
    if note is not None:
        note.refused = True
    return gettext(
        '"%(field)s" contains a number written like a My Number (個人番号: twelve digits with a valid '
        "check digit). The police never collect My Numbers, so it cannot be entered here, and nothing "
        "you typed has been kept. Remove the number and send again. If it is a licence number, leave "
        "it out: the record already has it."
    ) % {"field": field}


@deconstructible
class NoMyNumber:
    """Validator for a free-text field (R14); never attach it to a record-number field, whose
    twelve digits pass the My Number check about 18% of the time (DOMAIN.md)."""

    code = "my_number"

    def __init__(self, field: str | Promise) -> None:
        self.field = field

    def __call__(self, value: Any) -> None:
        if isinstance(value, str) and value and contains_my_number(value):
            raise ValidationError(my_number_refusal(self.field), code=self.code)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NoMyNumber) and str(other.field) == str(self.field)

    def __hash__(self) -> int:
        return hash(str(self.field))


def search_refusal(query: str, field: str | Promise = SEARCH_LABEL) -> str | None:
    """Why a search box refuses its input, or None.

    A search box takes a record number or text. Input made only of digits and separators is a
    record number and is always accepted, even when it passes the My Number check (about 18% of
    licence numbers do, DOMAIN.md); text that carries a My Number among other characters is refused.
    """
    if "\x00" in query:
        return str(_("The search contains a character that cannot be searched for."))
    if not digits_only(query) and contains_my_number(query):
        return my_number_refusal(field)
    return None


# Model text fields that hold identifiers, secrets or machine-written copies, never typed free
# text: the admin does not attach reject_my_number to them. A record number above all must not
# be refused for passing the My Number check.
NOT_FREE_TEXT: dict[str, str] = {
    "driver_records.driverrecord.number": "record number (licence or driving-history number)",
    "driver_records.driverrecord.cert_serial": "certificate serial",
    "driver_records.driverrecord.cert_issuer_key_id": "certificate issuer key id",
    "driver_records.recordchange.old_value": "a copy of a changed value, written by the services",
    "driver_records.recordchange.new_value": "a copy of a changed value, written by the services",
    "driver_records.recordchange.jlis_event_id": "J-LIS event id",
    "consents.consent.reference": "reference number",
    "consents.consent.statement_sha256": "hash",
    "consents.consent.cert_serial": "certificate serial",
    "consents.consent.cert_issuer_key_id": "certificate issuer key id",
    "consents.consent.jlis_consent_id": "J-LIS consent id",
    "consents.consentstatement.nonce": "one-time nonce",
    "consents.mynaportallink.cert_serial": "certificate serial",
    "consents.crlimport.issuer_key_id": "certificate issuer key id",
    "consents.revokedcertificate.serial": "certificate serial",
    "consents.revokedcertificate.issuer_key_id": "certificate issuer key id",
    "jlis_gateway.jlisevent.event_id": "J-LIS event id",
    "jlis_gateway.jlisevent.serial": "certificate serial",
    "jlis_gateway.jlisevent.jlis_consent_id": "J-LIS consent id",
    "jlis_gateway.quarantinedevent.event_id": "J-LIS event id",
    "jlis_gateway.quarantinedevent.cursor": "J-LIS cursor",
    "jlis_gateway.quarantinedevent.body_sha256": "hash",
    "jlis_gateway.pollstate.cursor": "J-LIS cursor",
    "jlis_gateway.pollstate.claim_token": "random token",
    "jlis_gateway.outboxmessage.idempotency_key": "random key",
    "otp_totp.totpdevice.key": "the TOTP secret (hex)",
    "onestop.user.password": "a password hash",
    "safeguards.disclosurerequest.reference": "reference number",
}


def is_free_text_model_field(field: object) -> bool:
    """Whether a model field takes typed free text, and so refuses a My Number (R14)."""
    from django.db import models

    if not isinstance(field, models.CharField | models.TextField) or field.choices:
        return False
    if field.max_length is not None and field.max_length < 12:
        return False  # too short for twelve digits
    label = f"{field.model._meta.label_lower}.{field.name}"
    return label not in NOT_FREE_TEXT
