"""Attack 31: the login history as a place anyone can write a My Number into.

django-axes keeps, for the auditor, what each login attempt came with: the browser's
User-Agent and Accept headers, the query string and the form's fields (the password masked).
Those are the client's free text, written by anyone who can reach the login page, signed in or
not; the failure and success logs are kept with no time limit and nothing erases them
(docs/personal-data.md). R14: no My Number is kept anywhere. The username box already refuses
one (test_r14_my_number.py); the other text the history keeps must not keep one either."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.test import Client

from tests.conftest import staff_password

from .r14_text import with_check_digit
from .test_r14_nothing_kept import _columns_holding

pytestmark = pytest.mark.django_db

MY_NUMBER = with_check_digit("11223344556")
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0"


def test_a_failed_login_keeps_no_my_number_from_the_headers_query_or_form(clerk):
    client = Client(HTTP_USER_AGENT=f"Mozilla/5.0 {MY_NUMBER}", HTTP_ACCEPT=f"text/html;note={MY_NUMBER}")
    response = client.post(
        f"/accounts/login/?next=/counter/%3Fq%3D{MY_NUMBER}&{MY_NUMBER}=1",
        {"username": "alice", "password": "not-her-password", "note": MY_NUMBER},
    )
    assert response.status_code == 200  # refused: a wrong password
    assert AccessFailureLog.objects.filter(username="alice").exists()  # the failure is in the history
    assert _columns_holding(MY_NUMBER) == []


def test_a_successful_login_keeps_no_my_number_from_the_headers(clerk):
    client = Client(HTTP_USER_AGENT=f"Mozilla/5.0 {MY_NUMBER}", HTTP_ACCEPT=f"text/html;note={MY_NUMBER}")
    response = client.post("/accounts/login/", {"username": "alice", "password": staff_password("alice")})
    assert response.status_code == 302
    assert AccessLog.objects.filter(username="alice").exists()
    assert _columns_holding(MY_NUMBER) == []


def test_the_history_keeps_an_ordinary_browsers_description_and_the_forms_fields(clerk):
    """The control: what the auditor reads of an ordinary attempt is still there."""
    client = Client(HTTP_USER_AGENT=BROWSER)
    client.post("/accounts/login/?next=/counter/", {"username": "alice", "password": "not-her-password"})
    attempt = AccessAttempt.objects.get(username="alice")
    assert attempt.user_agent == BROWSER
    assert "next=/counter/" in attempt.get_data
    assert "not-her-password" not in attempt.post_data  # masked, as axes does
    assert AccessFailureLog.objects.get(username="alice").user_agent == BROWSER
