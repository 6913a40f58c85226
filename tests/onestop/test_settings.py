import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from onestop import settings as onestop_settings

ROOT = Path(__file__).resolve().parents[2]
# Everything production requires, each well formed.
PRODUCTION_ENV = {
    "ONESTOP_ENV": "production",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),  # a real random key: weak ones are refused
    "DJANGO_ALLOWED_HOSTS": "onestop.example",
    "DATABASE_URL": "postgresql://db/onestop",
    "REDIS_URL": "redis://redis:6379/0",
    "JLIS_BASE_URL": "https://jlis.example",
    "ONESTOP_AUDIT_PUBLIC_KEY": "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",  # RFC 8032's first test key
}


def test_env_bool_refuses_a_malformed_value(monkeypatch):
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG must be a boolean"):
        onestop_settings.env_bool("X_FLAG", False)


def test_env_int_refuses_a_malformed_value(monkeypatch):
    monkeypatch.setenv("X_NUM", "ten")
    with pytest.raises(ImproperlyConfigured, match="X_NUM must be an integer"):
        onestop_settings.env_int("X_NUM", 1)


def _import_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ONESTOP_", "DATABASE_", "REDIS_"))}
    return subprocess.run(
        [sys.executable, "-c", "import onestop.settings"],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _import_settings({"ONESTOP_ENV": "production"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_refuses_debug_and_demo_mode():
    base = PRODUCTION_ENV
    assert _import_settings(base).returncode == 0
    assert "DJANGO_DEBUG is not allowed" in _import_settings({**base, "DJANGO_DEBUG": "1"}).stderr
    assert "ONESTOP_DEMO is not allowed" in _import_settings({**base, "ONESTOP_DEMO": "1"}).stderr
    assert "ONESTOP_JPKI_TRUST must be 'production'" in _import_settings({**base, "ONESTOP_JPKI_TRUST": "test"}).stderr


def test_production_refuses_to_start_without_the_audit_checkpoints_public_key():
    base = {k: v for k, v in PRODUCTION_ENV.items() if k != "ONESTOP_AUDIT_PUBLIC_KEY"}
    assert "ONESTOP_AUDIT_PUBLIC_KEY must be set in production" in _import_settings(base).stderr
    malformed = _import_settings({**base, "ONESTOP_AUDIT_PUBLIC_KEY": "not-a-key"})
    assert "ONESTOP_AUDIT_PUBLIC_KEY must be raw Ed25519 public keys in base64" in malformed.stderr
