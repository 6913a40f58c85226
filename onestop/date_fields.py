"""A date field that takes a date as counter staff type it: 和暦 or Western, in a text box.

The browser's own date input shows and takes the date in the browser's order (MM/DD/YYYY in a
chromium set to English, with no era), so staff could neither type 令和8年4月1日 nor read the
date as the paper form in front of them gives it. This field reads what onestop.wareki's
date_input reads, the same parser as the holder search's date of birth."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from .clock import japan_today
from .validators import NoMyNumber
from .wareki import DateInputError, date_input, wareki


class EraDateInput(forms.TextInput):
    """A text box showing a date as a Japanese page gives it (令和8年4月1日), or 2026-04-01 in English."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"autocomplete": "off", "inputmode": "text", "maxlength": "20", **(attrs or {})})

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, date):
            return value.isoformat() if translation.get_language() == "en" else wareki(value)
        return super().format_value(value)


class EraDateField(forms.Field):
    widget = EraDateInput
    default_error_messages = {
        "invalid": _("Enter the date as 令和8年4月1日, R8.4.1 or 2026-04-01 (a day that era had)."),
        "future": _("This day has not come yet (today is %(today)s): enter the day it happened."),
    }

    def __init__(self, *, past: bool = False, **kwargs: Any) -> None:
        """`past`: the day of something that has happened, so never after today in Japan."""
        self.past = past
        kwargs.setdefault("help_text", _("Japanese era or Western calendar: 令和8年4月1日, R8.4.1, 2026-04-01"))
        super().__init__(**kwargs)

    def validate(self, value: Any) -> None:
        super().validate(value)
        if self.past and isinstance(value, date) and value > (today := japan_today()):
            shown = today.isoformat() if translation.get_language() == "en" else wareki(today)
            raise forms.ValidationError(self.error_messages["future"], code="future", params={"today": shown})

    def to_python(self, value: Any) -> date | None:
        if isinstance(value, date):
            return value
        text = "" if value is None else str(value).strip()
        if text in self.empty_values:
            return None
        NoMyNumber(self.label or "")(text)  # R14 before the date's own error, as every typed field
        try:
            return date_input(text)
        except DateInputError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
