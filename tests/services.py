"""Which real services this test run has, and how a test that needs a missing one ends."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings

SERVICE_MARKERS = ("postgres", "redis", "celery_worker", "e2e", "promtool", "pcsc")
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")


def missing_service(marker: str) -> str | None:
    """Why a test with this marker cannot run here, or None when it can."""
    if marker == "postgres" and not settings.USING_POSTGRES:
        return "needs PostgreSQL; this run uses SQLite (no DATABASE_URL and no server on 127.0.0.1:5432)"
    if marker in {"redis", "celery_worker"} and not settings.REDIS_URL:
        return "Redis is not reachable (set REDIS_URL or start a local server on 6379)"
    if marker == "celery_worker" and not settings.USING_POSTGRES:
        return "a real Celery worker shares the test database, which needs PostgreSQL"
    if marker == "promtool" and shutil.which("promtool") is None:
        return "promtool is not installed (make test installs Debian's prometheus package when run as root)"
    if marker == "pcsc":
        return missing_pcsc()
    if marker == "e2e" and shutil.which("chromium") is None:
        return "chromium is not installed (make test installs Debian's chromium when run as root)"
    return None


def skip_marker(item: pytest.Item) -> pytest.MarkDecorator | None:
    """A skip naming the missing service, so the report lists each skipped test by name."""
    for marker in SERVICE_MARKERS:
        if item.get_closest_marker(marker) is not None and (reason := missing_service(marker)):
            return pytest.mark.skip(reason=reason)
    return None


def require_or_skip(item: pytest.Item) -> None:
    for marker in SERVICE_MARKERS:
        if item.get_closest_marker(marker) is None:
            continue
        reason = missing_service(marker)
        if reason is None:
            continue
        if settings.REQUIRE_SERVICES:
            pytest.fail(f"ONESTOP_REQUIRE_SERVICES=1 but {reason}", pytrace=False)
        pytest.skip(reason)


def missing_pcsc() -> str | None:
    """The card tests' stack: pcscd with vsmartcard's virtual reader, OpenSC, pyscard, and
    unshare (each test run's pcscd gets its own /run/pcscd in a mount namespace)."""
    needed = {
        "pcscd": shutil.which("pcscd"),
        "vsmartcard-vpcd": VPCD_DRIVER.exists(),
        "opensc": shutil.which("pkcs15-tool"),
        "unshare": shutil.which("unshare"),
        "pyscard": importlib.util.find_spec("smartcard") is not None,
    }
    missing = [name for name, found in needed.items() if not found]
    if not missing and os.geteuid() != 0:
        return "the card tests run pcscd in a mount namespace of its own (unshare --mount), which needs root"
    if missing:
        return (
            f"the card tests need {', '.join(missing)} (make test installs Debian's pcscd, vsmartcard-vpcd, "
            "opensc, swig and libpcsclite-dev when run as root, then pyscard)"
        )
    return None
