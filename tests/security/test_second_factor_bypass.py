"""Issue 17, findings 1 and 3: nobody who can see personal data gets past the password alone.

The URLs are every protected pattern of the URL configuration (pages, API, admin), built with real
objects. Each is requested by a user who gave the password and not yet the second factor, once
plainly and then with every way a request can claim to be at another path: a forwarded
`SCRIPT_NAME` (gunicorn takes it from a peer it trusts; the path then starts with it while Django
routes on `PATH_INFO`), Apache's `SCRIPT_URL`, and the `PATH_INFO`/`X-Forwarded-*`/`X-Original-URL`
headers, each naming a path the check lets through (login, language, health, static)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Group
from django.http import HttpResponse
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from onestop.models import User
from onestop.permission_matrix import Principal, Zone, rule_for
from onestop.roles import Role
from tests.conftest import staff_password

from .urlwalk import UrlEntry, url_entries, url_for

PROTECTED = (Zone.PAGE, Zone.API, Zone.ADMIN)
SECOND_FACTOR = "/accounts/second-factor/"


def protected_entries() -> list[UrlEntry]:
    entries = []
    for entry in url_entries():
        rule = rule_for(entry.key)
        assert rule is not None, entry.key
        if rule.zone in PROTECTED and entry.key != "second_factor":
            entries.append(entry)
    return entries


def open_prefixes(world: Any) -> list[str]:
    """The first segments of the paths that need no second factor (public and machine URLs,
    static files): what a forged prefix would make a page look like."""
    paths = {"/static/css/site.css"}
    for entry in url_entries():
        rule = rule_for(entry.key)
        assert rule is not None
        if rule.zone in (Zone.PUBLIC, Zone.MACHINE):
            paths.add(url_for(entry, world.url_args))
    return sorted({"/" + path.strip("/").split("/")[0] for path in paths - {"/"}})


def disguises(path: str, open_path: str) -> dict[str, dict[str, str]]:
    """The environ and headers that make `path` look like `open_path` to a check that reads the
    wrong field. All headers go together: any one that a check believed would let it through."""
    headers = {
        "HTTP_SCRIPT_NAME": open_path,
        "HTTP_PATH_INFO": open_path + "/",
        "HTTP_X_FORWARDED_PREFIX": open_path,
        "HTTP_X_FORWARDED_PATH": open_path + "/",
        "HTTP_X_FORWARDED_URI": open_path + "/",
        "HTTP_X_ORIGINAL_URL": open_path + "/",
        "HTTP_X_REWRITE_URL": open_path + "/",
        "HTTP_X_FORWARDED_HOST": "testserver",
        "HTTP_X_FORWARDED_PROTO": "https",
        "HTTP_X_FORWARDED_FOR": "127.0.0.1",
    }
    return {
        # As gunicorn passes a SCRIPT_NAME header from a peer it trusts: path = SCRIPT_NAME + PATH_INFO.
        f"SCRIPT_NAME={open_path} and headers": {"SCRIPT_NAME": open_path, **headers},
        # As Apache's mod_rewrite leaves it: Django takes SCRIPT_NAME from SCRIPT_URL.
        f"SCRIPT_URL={open_path}{path}": {"SCRIPT_URL": open_path + path},
    }


def sent_to_second_factor(zone: Zone, response: HttpResponse) -> bool:
    if zone == Zone.API:
        try:
            body = response.json()
        except ValueError:
            return False
        return response.status_code == 403 and isinstance(body, dict) and body.get("code") == "second_factor_required"
    return response.status_code == 302 and urlsplit(response["Location"]).path.endswith(SECOND_FACTOR)


def password_only(user: User) -> Client:
    """A client that gave the user's password and stopped at the second factor."""
    client = Client()
    response = client.post("/accounts/login/", {"username": user.username, "password": staff_password(user.username)})
    assert response.status_code == 302, response.status_code
    return client


def walk(world: Any, client: Client, entries: list[UrlEntry], *, disguised: bool) -> list[str]:
    """Requests each URL (GET and POST), plainly and, if asked, in every disguise; returns those
    that answered without the second factor."""
    failures = []
    prefixes = open_prefixes(world) if disguised else []
    for entry in entries:
        zone = rule_for(entry.key).zone  # type: ignore[union-attr]
        path = url_for(entry, world.url_args)
        variants: dict[str, dict[str, str]] = {"plain": {}}
        for prefix in prefixes:
            variants |= disguises(path, prefix)
        for name, extra in variants.items():
            for method in ("get", "post"):
                response = getattr(client, method)(path, **extra)
                if not sent_to_second_factor(zone, response):
                    failures.append(f"{method.upper()} {path} ({entry.key}) with {name}: {response.status_code}")
    return failures


@pytest.mark.django_db
def test_finding1_forwarded_paths_do_not_skip_the_second_factor(world):
    """Issue 17, finding 1: with `SCRIPT_NAME: /accounts` a supervisor revoked a consent and an
    auditor exported holders, having given only a password. The check does not depend on the
    role (test_finding3 walks every role): the supervisor walks the counter and the API, the
    auditor the admin."""
    entries = protected_entries()
    failures = walk(
        world, password_only(world.users[Principal.SUPERVISOR]),
        [e for e in entries if rule_for(e.key).zone != Zone.ADMIN], disguised=True,  # type: ignore[union-attr]
    )  # fmt: skip
    failures += walk(
        world, password_only(world.users[Principal.AUDITOR]),
        [e for e in entries if rule_for(e.key).zone == Zone.ADMIN], disguised=True,  # type: ignore[union-attr]
    )  # fmt: skip
    assert failures == [], f"{len(failures)} answers without the second factor:\n" + "\n".join(failures[:40])


def _user(username: str, role: Role | None, *, is_staff: bool, is_superuser: bool = False, office: Any = None) -> User:
    user = User.objects.create_user(username=username, password=staff_password(username))
    user.is_staff, user.is_superuser, user.office = is_staff, is_superuser, office
    user.save()
    if role is not None:
        user.groups.add(Group.objects.get(name=role.value))
    TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    return user


@pytest.mark.django_db
def test_finding3_every_role_that_sees_personal_data_gives_a_second_factor_whatever_its_flags(world, tokyo_office):
    """Issue 17, finding 3: an auditor without `is_staff` was never asked. Every role reads
    personal data (clerks and supervisors their prefecture's holders, auditors everyone's), with
    or without the staff flag; so does a superuser."""
    accounts = {
        "auditor without is_staff": _user("erin", Role.AUDITOR, is_staff=False),
        "auditor with is_staff": world.users[Principal.AUDITOR],
        "clerk": world.users[Principal.CLERK],
        "clerk with is_staff": _user("frank", Role.CLERK, is_staff=True, office=tokyo_office),
        "supervisor": world.users[Principal.SUPERVISOR],
        "superuser without a role": _user("grace", None, is_staff=True, is_superuser=True),
    }
    for account in accounts.values():  # each has a device: the question is whether it is asked for
        TOTPDevice.objects.get_or_create(user=account, confirmed=True, defaults={"name": "authenticator"})
    failures = []
    for name, account in accounts.items():
        lines = walk(world, password_only(account), protected_entries(), disguised=False)
        failures += [f"{name}: {line}" for line in lines]
    assert failures == [], f"{len(failures)} answers without the second factor:\n" + "\n".join(failures[:40])
