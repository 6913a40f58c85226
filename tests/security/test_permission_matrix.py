"""The permission matrix (onestop.permission_matrix) holds for every URL of the project and every
principal; a URL pattern without a rule fails here, so a new view cannot ship without one."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.http import HttpResponse

from onestop.management.commands.permission_matrix import document_with_matrix
from onestop.permission_matrix import ADMIN_MODELS, RULES, Outcome, Principal, Zone, outcome, rule_for

from .urlwalk import url_entries, url_for

ROOT = Path(__file__).resolve().parents[2]


def test_every_url_pattern_has_a_rule_and_every_rule_a_pattern():
    entries = url_entries()
    keys = {entry.key for entry in entries}
    missing = sorted(key for key in keys if rule_for(key) is None)
    assert missing == [], f"URL patterns without a rule in onestop/permission_matrix.py: {missing}"
    stale = sorted(set(RULES) - keys)
    assert stale == [], f"rules for URL patterns that no longer exist: {stale}"
    registered = {model._meta.label_lower for model in admin.site._registry}
    assert registered == set(ADMIN_MODELS), "ADMIN_MODELS must list exactly the models registered in the admin"


def test_the_documented_matrix_is_the_one_in_the_code():
    document = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    assert document_with_matrix(document) == document, (
        "docs/security.md shows an old matrix: run `python manage.py permission_matrix --write docs/security.md`"
    )


def _login_paths(zone: Zone) -> set[str]:
    return {"/admin/login/", "/admin/"} if zone == Zone.ADMIN else {"/accounts/login/"}


def _error_body(response: HttpResponse) -> dict[str, str] | None:
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    return body if isinstance(body, dict) and body.get("code") and body.get("message") else None


def _check(zone: Zone, expected: Outcome, response: HttpResponse) -> str | None:
    """Why the response is not the expected outcome, or None."""
    status = response.status_code
    location = urlsplit(response.get("Location", "")).path
    if expected == Outcome.OK:
        if zone == Zone.MACHINE:
            return None if status in (200, 503) else f"{status}"  # 503: not ready, as it may be here
        if status >= 500 or status in (401, 403, 404, 405):
            return f"refused with {status}"
        if zone != Zone.PUBLIC and status == 302 and location in _login_paths(zone) | {"/accounts/second-factor/"}:
            return f"sent to {location}"
        return None
    if expected == Outcome.LOGIN:
        return None if status == 302 and location in _login_paths(zone) else f"{status} {location}"
    if status != int(expected.value):
        return f"{status} {location}"
    if zone == Zone.API and _error_body(response) is None:
        return f"{status} without a {{code, message}} body: {response.content[:200]!r}"
    if status == 401 and not response.has_header("WWW-Authenticate"):
        return "401 without WWW-Authenticate"
    return None


@pytest.mark.django_db
def test_every_url_answers_every_principal_as_the_matrix_says(world):
    failures = []
    checked = 0
    clients = {}
    for entry in url_entries():
        rule = rule_for(entry.key)
        assert rule is not None, entry.key
        url = url_for(entry, world.url_args)
        for principal in Principal:
            for method in ("GET", "POST"):
                expected = outcome(rule, principal, method)
                logs_out = entry.key in ("logout", "admin:logout")
                if logs_out or principal not in clients:
                    clients[principal] = world.client(principal)
                client = clients[principal]
                response = client.get(url) if method == "GET" else client.post(url)
                if logs_out:
                    del clients[principal]
                checked += 1
                if (why := _check(rule.zone, expected, response)) is not None:
                    failures.append(f"{method} {url} ({entry.key}) as {principal}: expected {expected}, got {why}")
    assert failures == [], f"{len(failures)} of {checked} answers differ from the matrix:\n" + "\n".join(failures)
