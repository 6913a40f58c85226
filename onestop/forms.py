"""The login forms: R14 on the username box as on every free-text field."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, UsernameField
from django.utils.translation import gettext_lazy as _

from .models import User
from .validators import NoMyNumber


def _username() -> UsernameField:
    # Refused before any login attempt is made, so a My Number typed here is never stored
    # (axes keeps the usernames of failed attempts). No longer than a username can be: axes
    # stores what was typed in a 255-character column, and a longer one was a server error.
    label = _("Username")
    return UsernameField(
        label=label,
        max_length=User._meta.get_field("username").max_length,
        widget=forms.TextInput(attrs={"autofocus": True}),
        validators=[NoMyNumber(label)],
    )


class StaffAuthenticationForm(AuthenticationForm):
    username = _username()


class StaffAdminAuthenticationForm(AdminAuthenticationForm):
    username = _username()
