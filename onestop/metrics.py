"""Counters for the operator's metrics, counted where things happen and read by `/metrics`.

Web processes, workers and beat are separate processes (separate containers in production), so a
counter lives in Redis: one hash, one field per counter and label set, `HINCRBY` after the fact.
Without Redis (`make run`'s embedded default) each process counts in memory and `/metrics`
shows the web process's own. A counter is never worth failing the work it counts: if Redis is
unreachable, the increment is dropped (Prometheus reads the gap as a counter reset).

Labels carry codes only (a refusal code, a skip reason), never personal data.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from typing import cast

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

# Every counter, with the help text `/metrics` shows. metric_increment refuses any other name.
COUNTERS = {
    "onestop_jlis_polls_total": "J-LIS polls by result (done, busy, failed, lost).",
    "onestop_jlis_events_stored_total": "J-LIS events stored by the poller (each once).",
    "onestop_jlis_events_quarantined_total": "J-LIS events the poller could not read.",
    "onestop_jlis_events_processed_total": "J-LIS events the applier finished: applied, or skipped by reason.",
    "onestop_signature_refusals_total": "Consent signatures refused, by JPKI or API refusal code.",
}
REDIS_KEY = "onestop:metrics:counters"
_local: Counter[str] = Counter()
_local_lock = threading.Lock()
_client: redis.Redis | None = None


def _field(name: str, labels: dict[str, str]) -> str:
    return json.dumps([name, dict(sorted(labels.items()))], ensure_ascii=False, separators=(",", ":"))


def _redis() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5)
    return _client


def metric_increment(name: str, amount: int = 1, **labels: str) -> None:
    """Add `amount` to a counter of COUNTERS."""
    if name not in COUNTERS:
        raise ValueError(f"unknown counter {name!r}: add it to onestop.metrics.COUNTERS")
    if amount <= 0:
        return
    field = _field(name, labels)
    if not settings.REDIS_URL:
        with _local_lock:
            _local[field] += amount
        return
    try:
        _redis().hincrby(REDIS_KEY, field, amount)
    except redis.RedisError as exc:
        logger.warning("metric %s not counted (%s)", name, type(exc).__name__)


def metric_counters() -> list[tuple[str, dict[str, str], int]]:
    """Every counter's current value: (name, labels, value)."""
    if settings.REDIS_URL:
        # The client is made without decode_responses: Redis answers bytes.
        stored = cast(dict[bytes, bytes], _redis().hgetall(REDIS_KEY))
        raw = {key.decode(): int(value) for key, value in stored.items()}
    else:
        with _local_lock:
            raw = dict(_local)
    counters = []
    for field, value in raw.items():
        name, labels = json.loads(field)
        counters.append((name, labels, value))
    return counters
