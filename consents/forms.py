from django import forms
from django.utils.translation import gettext_lazy as _

from onestop.validators import NoMyNumber

from .errors import EXPLANATIONS
from .models import ConsentItem
from .services.lifecycle import REVOKE_REASON_MAX


class ItemsForm(forms.Form):
    """R2: the items the holder lets J-LIS give (at least one)."""

    items = forms.MultipleChoiceField(
        label=_("Items J-LIS may give the police"),
        help_text=_("The signing certificate's serial is always given."),
        choices=ConsentItem.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": EXPLANATIONS["no_items"]},
    )


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for revoking"),
        max_length=REVOKE_REASON_MAX,
        help_text=_("For example: the holder asked at the counter to stop the service."),
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=[NoMyNumber(_("Reason for revoking"))],
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for withdrawing"),
        max_length=REVOKE_REASON_MAX,
        help_text=_("For example: the items were chosen wrongly; a new consent is registered with the right ones."),
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=[NoMyNumber(_("Reason for withdrawing"))],
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)


class MynaportalLinkForm(forms.Form):
    confirmed = forms.BooleanField(
        label=_("The holder has completed Mynaportal linkage (マイナポータル連携)"),
        error_messages={"required": _("Tick the box to confirm the linkage.")},
    )


class DemoSignForm(forms.Form):
    variant = forms.ChoiceField(
        label=_("Demo card"),
        choices=[
            ("valid", _("Sign correctly")),
            ("tampered", _("Tamper with the signature (shows a refusal)")),
        ],
        initial="valid",
    )
