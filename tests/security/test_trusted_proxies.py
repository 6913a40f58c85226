"""Issue 17, finding 1, at the web server: gunicorn (with the project's gunicorn.conf.py) believes
forwarded SCRIPT_NAME, PATH_INFO and X-Forwarded-* headers only from the addresses listed in
ONESTOP_TRUSTED_PROXIES (none by default), not from any local process as its own default does."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import requests

from tests.jlis_fixtures import BIN, ROOT, _stop, free_port, wait_until

FORGED = {
    "SCRIPT_NAME": "/accounts",
    "PATH_INFO": "/accounts/login/",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Ssl": "on",
    "X-Forwarded-Protocol": "ssl",
}


def _environ_seen(tmp_path: Path, trusted: str | None) -> dict[str, str]:
    """What a WSGI application behind gunicorn sees of a forged request from 127.0.0.1."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("FORWARDED_ALLOW_IPS", "ONESTOP_TRUSTED_PROXIES")}
    if trusted is not None:
        env["ONESTOP_TRUSTED_PROXIES"] = trusted
    with open(tmp_path / "gunicorn.log", "ab") as log:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "--config", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}",
             "tests.security.echo_wsgi"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}/accounts/counter/consents/1/revoke/"
    try:

        def answers() -> bool:
            try:
                return requests.get(url, timeout=1).ok
            except requests.RequestException:
                return False

        wait_until(answers, 60, "gunicorn to answer")
        return requests.get(url, headers=FORGED, timeout=10).json()
    finally:
        _stop(process)


def test_finding1_gunicorn_ignores_forwarded_headers_from_a_peer_it_was_not_told_to_trust(tmp_path):
    seen = _environ_seen(tmp_path, trusted=None)
    assert seen == {"SCRIPT_NAME": "", "PATH_INFO": "/accounts/counter/consents/1/revoke/", "wsgi.url_scheme": "http"}


@pytest.mark.parametrize("trusted", ["127.0.0.1", "127.0.0.0/8, ::1"])
def test_gunicorn_believes_the_configured_proxy(tmp_path, trusted):
    """The control: from a listed address the same headers are believed."""
    seen = _environ_seen(tmp_path, trusted=trusted)
    assert seen == {"SCRIPT_NAME": "/accounts", "PATH_INFO": "/counter/consents/1/revoke/", "wsgi.url_scheme": "https"}


def test_another_address_is_not_trusted_because_a_proxy_is_configured(tmp_path):
    seen = _environ_seen(tmp_path, trusted="192.0.2.10")
    assert seen["SCRIPT_NAME"] == "" and seen["wsgi.url_scheme"] == "http"
