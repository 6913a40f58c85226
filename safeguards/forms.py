from django import forms
from django.utils.translation import gettext_lazy as _

from onestop.clock import japan_today
from onestop.date_fields import EraDateField
from onestop.validators import NoMyNumber

from .models import AnswerMethod, Grounds, IdentityDocument, ProhibitedAct, Requester
from .services._common import NOTE_MAX
from .services.disclosure import IDENTITY_NOTE_MAX, NAME_MAX, RECEIPT_MAX


def _today() -> object:
    return japan_today()


class SuspensionProposeForm(forms.Form):
    reason_code = forms.ChoiceField(
        label=_("Prohibited act (article 6 of the terms)"), choices=ProhibitedAct.choices, widget=forms.RadioSelect
    )
    grounds = forms.ChoiceField(label=_("Grounds (article 7)"), choices=Grounds.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        label=_("Note: what was done, and how it came to light"),
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        validators=[NoMyNumber(_("Note: what was done, and how it came to light"))],
    )


class SuspensionDecisionForm(forms.Form):
    CONFIRM, REJECT = "confirm", "reject"
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (CONFIRM, _("Confirm: stop the service and erase the collected data")),
            (REJECT, _("Reject the proposal")),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note (required when rejecting)"),
        max_length=NOTE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=[NoMyNumber(_("Note (required when rejecting)"))],
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("decision") == self.REJECT and not (data.get("note") or "").strip():
            self.add_error("note", _("Say why the proposal is rejected."))
        return data


class DisclosureRegisterForm(forms.Form):
    requester_kind = forms.ChoiceField(label=_("Requested by"), choices=Requester.choices, widget=forms.RadioSelect)
    requester_name = forms.CharField(
        label=_("Requester's name (as written on the form)"),
        max_length=NAME_MAX,
        validators=[NoMyNumber(_("Requester's name (as written on the form)"))],
    )
    received_on = EraDateField(label=_("Form received on"), initial=_today, past=True)


class IdentityCheckForm(forms.Form):
    document = forms.ChoiceField(label=_("Identity document seen"), choices=IdentityDocument.choices)
    note = forms.CharField(
        label=_("How it was checked (optional)"),
        max_length=IDENTITY_NOTE_MAX,
        required=False,
        validators=[NoMyNumber(_("How it was checked (optional)"))],
        help_text=_("Never write down the My Number or a document's number."),
    )


class FeeForm(forms.Form):
    amount = forms.IntegerField(label=_("Fee received (yen)"), min_value=1, max_value=1_000_000)
    receipt_number = forms.CharField(
        label=_("Receipt number"), max_length=RECEIPT_MAX, validators=[NoMyNumber(_("Receipt number"))]
    )
    paid_on = EraDateField(label=_("Paid on"), initial=_today, past=True)


class AnswerForm(forms.Form):
    method = forms.ChoiceField(label=_("How the answer was given"), choices=AnswerMethod.choices)
    answered_on = EraDateField(label=_("Answered on"), initial=_today, past=True)


class CloseForm(forms.Form):
    confirmed = forms.BooleanField(label=_("The request is complete and can be closed"))
