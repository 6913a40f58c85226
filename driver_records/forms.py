from django import forms
from django.utils.translation import gettext_lazy as _

from onestop.validators import search_refusal

from .models import HOLDING_STATUSES_BY_KIND, DriverRecord, HoldingStatus
from .normalise import record_number_input


class RecordSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Record number or name"),
        max_length=100,
        strip=True,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off"}),
    )

    def clean_q(self) -> str:
        value: str = self.cleaned_data["q"]
        # R14: a whole record number is accepted even when it passes the My Number check.
        if (refusal := search_refusal(value, self.fields["q"].label)) is not None:
            raise forms.ValidationError(refusal, code="my_number")
        number = record_number_input(value)
        if number.isdigit() and len(number) != 12:
            raise forms.ValidationError(_("A record number is exactly 12 digits."), code="record_number_shape")
        return value


class HoldingStatusForm(forms.Form):
    """A clerk records a change of what the holder carries (e.g. a plastic licence issued)."""

    holding_status = forms.ChoiceField(label=_("New holding status"))
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: object, record: DriverRecord, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        allowed = HOLDING_STATUSES_BY_KIND[record.kind]
        self.fields["holding_status"].choices = [(s.value, s.label) for s in HoldingStatus if s in allowed]
        self.fields["holding_status"].initial = record.holding_status
        self.fields["version"].initial = record.version
