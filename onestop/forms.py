"""The login forms: R14 on the username box as on every free-text field."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, UsernameField
from django.utils.translation import gettext_lazy as _

from .validators import NoMyNumber


def _username() -> UsernameField:
    # Refused before any login attempt is made, so a My Number typed here is never stored
    # (axes keeps the usernames of failed attempts).
    label = _("Username")
    return UsernameField(label=label, widget=forms.TextInput(attrs={"autofocus": True}), validators=[NoMyNumber(label)])


class StaffAuthenticationForm(AuthenticationForm):
    username = _username()


class StaffAdminAuthenticationForm(AdminAuthenticationForm):
    username = _username()
