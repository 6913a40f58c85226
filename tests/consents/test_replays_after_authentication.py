"""Issue 17, finding 6: a kept answer is replayed only to the principal that was given it, and only
once the repeat has been authenticated and has passed the CSRF check as its view has them. A
logged-out session cookie, a revoked terminal's token, or a repeat without the CSRF token got the
kept answer before."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client
from django.urls import reverse

from consents.models import Consent, ConsentStatement
from consents.services.terminals import terminal_create, terminal_revoke
from tests.conftest import StaffClient

from .conftest import signed

pytestmark = pytest.mark.django_db
STATEMENTS = "/api/v1/statements/"


def _json_post(client: Client, url: str, body: dict, key: str, **headers: str):
    return client.post(url, json.dumps(body), content_type="application/json", HTTP_IDEMPOTENCY_KEY=key, **headers)


def _not_replayed(response) -> bool:
    return not response.has_header("Idempotent-Replayed")


def test_finding6_a_revoked_terminal_gets_no_kept_answer(client, record, make_statement, tokyo_office, issue_card_for):
    statement = make_statement(record)
    terminal, token = terminal_create(name="府中1", office=tokyo_office, actor=None)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    good = signed(statement, issue_card_for(record))
    body = {
        k: base64.b64encode(good[v]).decode()
        for k, v in (("signature", "signature"), ("certificate", "certificate_der"))
    }
    url = f"{STATEMENTS}{statement.pk}/signature/"
    first = _json_post(client, url, body, "sign-00000001", **auth)
    assert first.status_code == 201
    terminal_revoke(terminal_id=terminal.pk, actor=None)
    again = _json_post(client, url, body, "sign-00000001", **auth)
    assert again.status_code == 401 and _not_replayed(again)
    assert again.json()["code"] == "not_authenticated"  # the refusal, not the consent


def test_finding6_a_logged_out_session_cookie_gets_no_kept_answer(clerk, record, terms, demo_cards):
    browser = StaffClient()
    browser.force_login(clerk)
    browser.post(reverse("consents:statement-new", args=[record.pk]), {"items": ["address"]})
    url = reverse("consents:statement-demo-sign", args=[ConsentStatement.objects.get().pk])
    form = {"variant": "valid", "idempotency_key": "form-key-0001"}
    first = browser.post(url, form)
    assert first.status_code == 302 and Consent.objects.count() == 1
    stolen = browser.cookies["sessionid"].value
    browser.post(reverse("logout"))
    stale = Client()
    stale.cookies["sessionid"] = stolen
    again = stale.post(url, form)
    assert _not_replayed(again)
    assert again.status_code == 302 and again["Location"].startswith(reverse("login"))


def test_finding6_a_logged_out_session_cookie_gets_no_kept_api_answer(clerk, record, terms):
    browser = StaffClient()
    browser.force_login(clerk)
    body = {"record_id": record.pk, "items": ["address"]}
    first = _json_post(browser, STATEMENTS, body, "new-statement-1")
    assert first.status_code == 201
    stolen = browser.cookies["sessionid"].value
    browser.post(reverse("logout"))
    stale = Client()
    stale.cookies["sessionid"] = stolen
    again = _json_post(stale, STATEMENTS, body, "new-statement-1")
    assert again.status_code in (401, 403) and _not_replayed(again)
    assert "text" not in again.json()


def _csrf_browser(user) -> tuple[Client, str]:
    browser = StaffClient(enforce_csrf_checks=True)
    browser.force_login(user)
    assert browser.get(reverse("counter:home")).status_code == 200
    return browser, browser.cookies["csrftoken"].value


def test_finding6_a_repeat_without_the_csrf_token_gets_no_kept_answer(clerk, record, terms):
    browser, csrf = _csrf_browser(clerk)
    url = reverse("consents:statement-new", args=[record.pk])
    form = {"items": ["address"], "idempotency_key": "form-key-0002"}
    first = browser.post(url, {**form, "csrfmiddlewaretoken": csrf})
    assert first.status_code == 302
    again = browser.post(url, form)  # the same form, as a forged cross-site post would send it
    assert again.status_code == 403 and _not_replayed(again)
    control = browser.post(url, {**form, "csrfmiddlewaretoken": csrf})
    assert control["Idempotent-Replayed"] == "true" and control["Location"] == first["Location"]


def test_finding6_an_api_repeat_without_the_csrf_token_gets_no_kept_answer(clerk, record, terms):
    browser, csrf = _csrf_browser(clerk)
    body = {"record_id": record.pk, "items": ["address"]}
    first = _json_post(browser, STATEMENTS, body, "new-statement-2", HTTP_X_CSRFTOKEN=csrf)
    assert first.status_code == 201
    again = _json_post(browser, STATEMENTS, body, "new-statement-2")
    assert again.status_code in (401, 403) and _not_replayed(again)  # the view's own refusal
    control = _json_post(browser, STATEMENTS, body, "new-statement-2", HTTP_X_CSRFTOKEN=csrf)
    assert control["Idempotent-Replayed"] == "true" and control.json() == first.json()


def test_replays_go_to_the_principal_not_to_the_session(clerk, record, terms):
    """The same user in a new session (logged in again) lands on the answer of the first
    submission; another user with the same key gets their own."""
    body = {"record_id": record.pk, "items": ["address"]}
    first_session = StaffClient()
    first_session.force_login(clerk)
    first = _json_post(first_session, STATEMENTS, body, "new-statement-3")
    second_session = StaffClient()
    second_session.force_login(clerk)
    again = _json_post(second_session, STATEMENTS, body, "new-statement-3")
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
