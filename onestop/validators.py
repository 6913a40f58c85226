"""R14: the police never collect a My Number (個人番号)."""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MY_NUMBER_MESSAGE = _("This looks like a My Number (個人番号). It must not be entered here.")


# What people type between groups of digits: hyphens, dashes, minus signs and the long-vowel
# mark of a Japanese keyboard, spaces (full-width ones become spaces under NFKC).
SEPARATORS = frozenset("-‐‑‒–—―−ーｰ ")


def _without_separators(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch not in SEPARATORS)


def my_number_check_digit(first_eleven: str) -> int:
    """The check digit of a My Number (総務省令第85号 第5条) for its first eleven digits."""
    total = 0
    for n, digit in enumerate(reversed(first_eleven), start=1):
        weight = n + 1 if n <= 6 else n - 5
        total += int(digit) * weight
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def is_my_number(value: str) -> bool:
    """A 12-digit string whose last digit is a valid My Number check digit."""
    digits = _without_separators(value)
    if len(digits) != 12 or not digits.isascii() or not digits.isdigit():
        return False
    return my_number_check_digit(digits[:11]) == int(digits[11])


def contains_my_number(text: str) -> bool:
    """Whether any 12-digit run in free text (hyphens and spaces allowed) is a My Number."""
    normalised = unicodedata.normalize("NFKC", text)
    run = ""
    for char in normalised + "\n":
        if char.isascii() and char.isdigit():
            run += char
        elif char in SEPARATORS and run:
            continue
        else:
            if len(run) == 12 and is_my_number(run):
                return True
            run = ""
    return False


def reject_my_number(value: str) -> None:
    """Validator for free-text fields; never attach it to a record-number field."""
    if value and contains_my_number(value):
        raise ValidationError(MY_NUMBER_MESSAGE, code="my_number")


def _is_whole_number(text: str) -> bool:
    digits = _without_separators(text)
    return digits.isascii() and digits.isdigit()


def search_refusal(query: str) -> str | None:
    """Why a search box refuses its input, or None.

    A search box takes a record number or text. Input made only of digits is a record number
    and is always accepted, even when it passes the My Number check (about 18% of licence
    numbers do, DOMAIN.md); text that carries a My Number among other characters is refused.
    """
    if "\x00" in query:
        return str(_("The search contains a character that cannot be searched for."))
    if not _is_whole_number(query) and contains_my_number(query):
        return str(MY_NUMBER_MESSAGE)
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
    "jlis_gateway.quarantinedevent.raw": "J-LIS's body as received, kept for the operators",
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
