from datetime import date
from typing import cast

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from onestop.validators import NoMyNumber, search_refusal
from onestop.wareki import DateInputError, date_input

from .models import HOLDING_STATUSES_BY_KIND, DriverRecord, HoldingStatus
from .normalise import record_number_input
from .services import CHANGE_REASON_MAX

BIRTH_DATE_LABEL = _("Date of birth (optional)")


class RecordSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Record number or name"),
        max_length=100,
        strip=True,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
    )
    birth_date = forms.CharField(
        label=BIRTH_DATE_LABEL,
        validators=[NoMyNumber(BIRTH_DATE_LABEL)],
        help_text=_("Japanese era or Western calendar: 平成2年4月1日, H2.4.1, 1990-04-01"),
        max_length=20,
        required=False,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )

    def clean_q(self) -> str:
        value: str = self.cleaned_data["q"]
        # R14: a whole record number is accepted even when it passes the My Number check.
        label = cast("str | Promise", self.fields["q"].label)  # set on the field above
        if (refusal := search_refusal(value, label)) is not None:
            raise forms.ValidationError(refusal, code="my_number")
        number = record_number_input(value)
        if number.isdigit() and len(number) != 12:
            raise forms.ValidationError(_("A record number is exactly 12 digits."), code="record_number_shape")
        return value

    def clean_birth_date(self) -> date | None:
        value: str = self.cleaned_data["birth_date"]
        if not value:
            return None
        try:
            return date_input(value)
        except DateInputError:
            raise forms.ValidationError(
                _("Enter the date of birth as 平成2年4月1日, H2.4.1 or 1990-04-01 (a day that era had)."),
                code="birth_date",
            ) from None


CHANGE_REASON_LABEL = _("Reason for the change")


class HoldingStatusForm(forms.Form):
    """A clerk records a change of what the holder carries (e.g. a plastic licence issued), with
    the reason; a first send shows what the change does, the second (`confirmed`) makes it."""

    holding_status = forms.ChoiceField(label=_("New holding status"))
    reason = forms.CharField(
        label=CHANGE_REASON_LABEL,
        max_length=CHANGE_REASON_MAX,
        help_text=_("For example: a plastic licence was issued at the holder's request on this day."),
        widget=forms.Textarea(attrs={"rows": 2}),
        validators=[NoMyNumber(CHANGE_REASON_LABEL)],
        error_messages={"required": _("Give the reason for the change.")},
    )
    version = forms.IntegerField(widget=forms.HiddenInput)
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: object, record: DriverRecord, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.record = record
        allowed = HOLDING_STATUSES_BY_KIND[record.kind]
        choice = cast(forms.ChoiceField, self.fields["holding_status"])  # declared above
        choice.choices = [(s.value, s.label) for s in HoldingStatus if s in allowed]
        self.fields["holding_status"].initial = record.holding_status
        self.fields["version"].initial = record.version

    def clean_holding_status(self) -> str:
        value: str = self.cleaned_data["holding_status"]
        if value == self.record.holding_status:
            raise forms.ValidationError(
                _("The holder already has this holding status: choose the new one."), code="unchanged"
            )
        return value
