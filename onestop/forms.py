"""The login forms: R14 on the username box as on every free-text field."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, UsernameField

from .validators import reject_my_number


def _username() -> UsernameField:
    # Refused before any login attempt is made, so a My Number typed here is never stored
    # (axes keeps the usernames of failed attempts).
    return UsernameField(widget=forms.TextInput(attrs={"autofocus": True}), validators=[reject_my_number])


class StaffAuthenticationForm(AuthenticationForm):
    username = _username()


class StaffAdminAuthenticationForm(AdminAuthenticationForm):
    username = _username()
