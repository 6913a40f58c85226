"""Which real services this test run has, and how a test that needs a missing one ends."""

from __future__ import annotations

import pytest
from django.conf import settings

SERVICE_MARKERS = ("postgres", "redis", "celery_worker")


def missing_service(marker: str) -> str | None:
    """Why a test with this marker cannot run here, or None when it can."""
    if marker == "postgres" and not settings.USING_POSTGRES:
        return "PostgreSQL is not reachable (set DATABASE_URL or start a local server on 5432)"
    if marker in {"redis", "celery_worker"} and not settings.REDIS_URL:
        return "Redis is not reachable (set REDIS_URL or start a local server on 6379)"
    if marker == "celery_worker" and not settings.USING_POSTGRES:
        return "a real Celery worker shares the test database, which needs PostgreSQL"
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
