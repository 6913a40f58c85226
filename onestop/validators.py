"""R14: the police never collect a My Number (個人番号)."""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


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
    digits = unicodedata.normalize("NFKC", value).replace("-", "").replace(" ", "")
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
        elif char in "- " and run:
            continue
        else:
            if len(run) == 12 and is_my_number(run):
                return True
            run = ""
    return False


def reject_my_number(value: str) -> None:
    """Validator for free-text fields; never attach it to a record-number field."""
    if value and contains_my_number(value):
        raise ValidationError(
            _("This looks like a My Number (個人番号). It must not be entered here."),
            code="my_number",
        )
