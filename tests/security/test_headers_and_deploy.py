import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]


def production_env(**overrides: str) -> dict[str, str]:
    """A complete production environment (a strong random secret key), with overrides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ONESTOP_"))}
    env.update(
        ONESTOP_ENV="production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="onestop.example",
        DATABASE_URL="postgresql://onestop@db.invalid:5432/onestop",
        REDIS_URL="redis://redis.invalid:6379/0",
        JLIS_BASE_URL="https://jlis.invalid",
        ONESTOP_AUDIT_PUBLIC_KEY="11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
    )
    env.update(overrides)
    return env


@pytest.mark.django_db
def test_pages_carry_security_headers(client, clerk):
    client.force_login(clerk)
    response = client.get(reverse("counter:home"))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_check_deploy_is_clean_under_production_settings():
    env = production_env()
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_does_not_believe_a_forwarded_scheme_by_itself():
    """Issue 17, finding 1: the scheme comes from the web server, which believes X-Forwarded-Proto
    only from the configured proxy (tests/security/test_trusted_proxies.py); Django must not
    take it from any peer on top."""
    env = production_env()
    script = (
        "from django.test import RequestFactory; "
        "r = RequestFactory().get('/', HTTP_HOST='onestop.example', HTTP_X_FORWARDED_PROTO='https', "
        "HTTP_X_FORWARDED_SSL='on'); print('secure' if r.is_secure() else 'plain')"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "plain"


def _example_key() -> str:
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        if line.startswith("DJANGO_SECRET_KEY="):
            return line.partition("=")[2]
    raise AssertionError(".env.example has no DJANGO_SECRET_KEY")


@pytest.mark.parametrize(
    "key",
    [
        "example",  # the one in .env.example (read from the file below)
        "django-insecure-" + secrets.token_urlsafe(50),  # what startproject writes
        "short-" + secrets.token_urlsafe(20),
        "ab" * 40,  # long, but two characters
        "please-change-me-" + secrets.token_urlsafe(40),
    ],
    ids=["env-example", "django-insecure", "short", "two-characters", "placeholder"],
)
def test_finding10_production_refuses_the_example_or_a_weak_secret_key(key):
    """Issue 17, finding 10: production started with the key from .env.example, which anyone
    can read, and with it forge a signed-in session."""
    key = _example_key() if key == "example" else key
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=production_env(DJANGO_SECRET_KEY=key),
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY" in result.stderr and "secrets.token_urlsafe" in result.stderr
