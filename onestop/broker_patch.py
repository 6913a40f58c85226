"""A guard for kombu's Redis transport (5.7), installed by onestop.celery.

When Redis goes away under a working consumer, kombu closes the channel after the connection
was already collected; closing tries to put the unacknowledged messages back, which needs a new
connection pool, built from connection details that are gone: `AttributeError: 'NoneType'
object has no attribute 'hostname'`, which kills the worker. What happened is a lost broker
connection, so it is raised as one: kombu ignores connection errors while closing, the consumer
reconnects as for any lost broker, and the unacknowledged message stays in Redis until the
visibility timeout hands it out again (docs/reliability.md).

Upstream: celery/kombu#582 (the same traceback, closed without a fix for this path). The guard
replaces a private method, so it is installed only on the kombu it was written and tested for;
on any other version it stays out and says so, and tests/onestop/test_broker_patch.py fails
until someone checks whether the new kombu still needs it.
"""

from __future__ import annotations

import logging
from typing import Any

import kombu
import redis
from kombu.transport import redis as kombu_redis

WRITTEN_FOR = "5.7.0"
log = logging.getLogger(__name__)

# celery-types' kombu stubs omit the private method and the version.
_original_connparams = kombu_redis.Channel._connparams  # type: ignore[attr-defined]


def _connparams(self: Any, asynchronous: bool = False) -> dict[str, Any]:
    if self.connection.client is None:
        raise redis.exceptions.ConnectionError("the broker connection is closed")
    return _original_connparams(self, asynchronous=asynchronous)


def install() -> bool:
    """Install the guard on the kombu it was written for; whether it is installed."""
    version: str = kombu.__version__  # type: ignore[attr-defined]
    if version != WRITTEN_FOR:
        log.warning("broker guard not installed: written for kombu %s, found %s", WRITTEN_FOR, version)
        return False
    kombu_redis.Channel._connparams = _connparams  # type: ignore[attr-defined]
    return True
