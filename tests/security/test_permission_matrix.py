"""The permission matrix (onestop.permission_matrix) holds for every URL of the project and every
principal; a URL pattern without a rule fails here, so a new view cannot ship without one."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.http import HttpResponse
from django.test import Client

from driver_records.access import HOLDER_PREFECTURE_PATHS
from driver_records.models import DriverRecord
from onestop.management.commands.permission_matrix import document_with_matrix
from onestop.permission_matrix import (
    ADMIN_HOLDER_MODELS,
    ADMIN_MODELS,
    RULES,
    Outcome,
    Place,
    Principal,
    Zone,
    outcome,
    rule_for,
)
from onestop.wareki import wareki

from .conftest import Holder
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


def _limited(response: HttpResponse, holder: Holder) -> str | None:
    """Why a page shown "without personal data" is not: it must name the holder's prefecture
    and carry none of the holder's address, birthdate, certificate or consents."""
    if response.status_code != 200:
        return f"{response.status_code}"
    body = response.content.decode()
    record = holder.record
    secrets = {
        "address": record.address,
        "birth date": record.birth_date.isoformat(),
        "birth date (和暦)": wareki(record.birth_date),
        "certificate serial": record.cert_serial or holder.consent.cert_serial,
        "consent reference": holder.consent.reference,
        "holding status": str(record.get_holding_status_display()),
    }
    shown = [what for what, value in secrets.items() if value and value in body]
    if shown:
        return "shows the holder's " + ", ".join(shown)
    if str(record.get_prefecture_display()) not in body:
        return "does not say the holder's prefecture"
    return None


# A URL that names its holder outside its path: in the query string or the body.
# The search by name lists the holder (by its exact record number it redirects to counter:record).
QUERIES: dict[str, Callable[[Holder], dict[str, str]]] = {"counter:home": lambda h: {"q": h.record.name}}
BODIES: dict[str, Callable[[Holder], dict[str, Any]]] = {
    "api:statements": lambda h: {"record_id": h.record.pk, "items": ["address"]}
}


def _request(client: Client, method: str, url: str, key: str, holder: Holder, zone: Zone) -> HttpResponse:
    if method == "GET":
        return client.get(url, QUERIES[key](holder) if key in QUERIES else None)
    if zone != Zone.API:
        return client.post(url)
    # With a fresh key, so that the view itself answers rather than the idempotency check.
    body = json.dumps(BODIES[key](holder) if key in BODIES else {})
    return client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)


@pytest.mark.django_db
def test_every_url_answers_every_principal_as_the_matrix_says(world):
    """Every URL x principal x own/other-prefecture holder x method. A URL that names no holder
    answers the same for both (the matrix says "="), so it is requested once."""
    failures = []
    checked = 0
    clients = {}
    for entry in url_entries():
        rule = rule_for(entry.key)
        assert rule is not None, entry.key
        for place in Place:
            if place == Place.OTHER and not rule.names_holder:
                continue
            url = url_for(entry, world.args_for(place))
            holder = world.holder_for(place)
            for principal in Principal:
                for method in ("GET", "POST"):
                    expected = outcome(rule, principal, method, place)
                    logs_out = entry.key in ("logout", "admin:logout")
                    if logs_out or principal not in clients:
                        clients[principal] = world.client(principal)
                    response = _request(clients[principal], method, url, entry.key, holder, rule.zone)
                    if logs_out:
                        del clients[principal]
                    checked += 1
                    if expected == Outcome.LIMITED:
                        why = _limited(response, holder)
                    else:
                        why = _check(rule.zone, expected, response)
                    if why is not None:
                        failures.append(
                            f"{method} {url} ({entry.key}, {place}) as {principal}: expected {expected}, got {why}"
                        )
    assert failures == [], f"{len(failures)} of {checked} answers differ from the matrix:\n" + "\n".join(failures)


def test_a_url_naming_a_holder_is_requested_for_both_prefectures():
    """Each URL whose path, query or body names a holder (or a row of one) has a rule that says
    what it needs of that holder, so the walk above requests it for both prefectures."""
    holder_params = {"record_id", "statement_id", "consent_id", "suspension_id", "disclosure_id", "message_id"}
    unscoped = []
    for entry in url_entries():
        rule = rule_for(entry.key)
        assert rule is not None
        names_one = bool(holder_params & set(entry.params)) or entry.key in QUERIES or entry.key in BODIES
        holder_row = entry.model is not None and "object_id" in entry.params
        if holder_row:
            names_one = entry.model._meta.label_lower in ADMIN_HOLDER_MODELS
        if names_one and not rule.names_holder:
            unscoped.append(entry.key)
    assert unscoped == [], f"URLs that name a holder but whose rule says nothing of it: {unscoped}"


def test_the_admin_knows_how_to_scope_every_model_that_names_holders():
    """A model in the admin that links to a driver record, or names a holder by record number or
    certificate serial, is scoped by the rule (and requested for both prefectures)."""
    assert set(HOLDER_PREFECTURE_PATHS) == set(ADMIN_HOLDER_MODELS)
    naming = {"record_number", "serial", "cert_serial"}
    for model in admin.site._registry:
        fields = model._meta.get_fields()
        links = any(getattr(f, "related_model", None) is DriverRecord and f.many_to_one for f in fields)
        names = bool(naming & {f.name for f in fields})
        public = model._meta.label_lower == "consents.revokedcertificate"  # a published CRL's entries
        if (model is DriverRecord or links or names) and not public:
            assert model._meta.label_lower in ADMIN_HOLDER_MODELS, model._meta.label_lower
