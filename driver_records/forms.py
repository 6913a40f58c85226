from django import forms
from django.utils.translation import gettext_lazy as _

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
        number = record_number_input(value)
        if number.isdigit() and len(number) != 12:
            raise forms.ValidationError(_("A record number is exactly 12 digits."), code="record_number_shape")
        return value
