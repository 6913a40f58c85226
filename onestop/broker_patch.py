"""A guard for kombu's Redis transport (5.7), installed by onestop.celery.

When Redis goes away under a working consumer, kombu closes the channel after the connection
was already collected; closing tries to put the unacknowledged messages back, which needs a new
connection pool, built from connection details that are gone: `AttributeError: 'NoneType'
object has no attribute 'hostname'`, which kills the worker. What happened is a lost broker
connection, so it is raised as one: kombu ignores connection errors while closing, the consumer
reconnects as for any lost broker, and the unacknowledged message stays in Redis until the
visibility timeout hands it out again (docs/reliability.md).
"""

from __future__ import annotations

from typing import Any

import redis
from kombu.transport import redis as kombu_redis

_original_connparams = kombu_redis.Channel._connparams


def _connparams(self: Any, asynchronous: bool = False) -> dict[str, Any]:
    if self.connection.client is None:
        raise redis.exceptions.ConnectionError("the broker connection is closed")
    return _original_connparams(self, asynchronous=asynchronous)


def install() -> None:
    kombu_redis.Channel._connparams = _connparams
