"""Attack 31: the session from before the second factor.

After the password alone a session exists, worth nothing yet: every page leads to the second
factor. Once the code is given, the session reads personal data. If it keeps its key, whoever
got hold of the cookie while it was worth nothing (a browser left at the code prompt on a shared
counter PC, a copied cookie) holds a session with both factors without ever knowing the code.
A session is given a new key at each step up: at the password (Django's login) and at the second
factor."""

from __future__ import annotations

import pytest
from axes.models import AccessLog
from django.conf import settings
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import staff_password

pytestmark = pytest.mark.django_db


def _session_key(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def test_the_session_key_from_before_the_second_factor_gets_nothing_after_it(clerk):
    browser = Client()
    browser.post("/accounts/login/", {"username": "alice", "password": staff_password("alice")})
    before = _session_key(browser)
    copied = Client()
    copied.cookies[settings.SESSION_COOKIE_NAME] = before
    assert copied.get("/counter/")["Location"].startswith("/accounts/second-factor/")  # worth nothing yet

    device = TOTPDevice.objects.get(user=clerk)
    answer = browser.post("/accounts/second-factor/", {"token": f"{totp(device.bin_key):06d}"})
    assert answer.status_code == 302 and answer["Location"] == "/counter/"
    assert browser.get("/counter/").status_code == 200  # the clerk is in

    late = copied.get("/counter/")
    assert late.status_code == 302 and late["Location"].startswith("/accounts/login/")


def test_the_login_history_still_closes_the_session_at_logout(clerk):
    """The auditor's login history (django-axes) names the session by its key's hash; the row
    opened at the password is closed when the clerk logs out, under the new key."""
    browser = Client()
    browser.post("/accounts/login/", {"username": "alice", "password": staff_password("alice")})
    device = TOTPDevice.objects.get(user=clerk)
    browser.post("/accounts/second-factor/", {"token": f"{totp(device.bin_key):06d}"})
    browser.post("/accounts/logout/")
    assert AccessLog.objects.get(username="alice").logout_time is not None
