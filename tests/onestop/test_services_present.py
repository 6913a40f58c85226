"""The real services this run claims to use are really there (CI requires both)."""

import pytest
import redis
from django.conf import settings
from django.db import connection


@pytest.mark.postgres
@pytest.mark.django_db
def test_tests_run_on_postgresql():
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        assert int(cursor.fetchone()[0]) >= 130000


@pytest.mark.redis
def test_redis_answers():
    assert redis.Redis.from_url(settings.REDIS_URL).ping() is True
