from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest
from django.conf import settings
from django.db import connection
from pytest_django.fixtures import Settings

from consents.jpki.testcard import TestHierarchy


@pytest.fixture
def jpki_test_dir(tmp_path: Path, settings: Settings, jpki_hierarchy: TestHierarchy) -> Path:
    """A fresh JPKI_TEST_DIR holding the session's hierarchy: cards and CRLs written by a test
    stay in it, and no CA key is generated per test."""
    for name in ("signing_ca.pem", "signing_ca.key", "auth_ca.pem", "auth_ca.key"):
        shutil.copy(Path(settings.JPKI_TEST_DIR) / name, tmp_path / name)
    settings.JPKI_TEST_DIR = tmp_path
    return tmp_path


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup: None, django_db_blocker: object) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker on Redis, sharing the test database (stopped before it is dropped)."""
    test_db = connection.settings_dict["NAME"]
    database_url = urlunparse(urlparse(settings.DATABASE_URL)._replace(path=f"/{test_db}"))
    env = {**os.environ, "DATABASE_URL": database_url, "ONESTOP_ENV": "test", "PYTHONPATH": str(settings.BASE_DIR)}
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "onestop", "worker", "--pool", "solo", "-Q", queue, "-l", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
    )
    yield worker
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
