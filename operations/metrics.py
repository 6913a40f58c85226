"""What `/metrics` shows besides django-prometheus's request metrics: gauges read from the
database when scraped (cached briefly: several scrapers, several web processes) and the counters
of onestop.metrics. Codes and counts only, never personal data."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime

from django.conf import settings
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from consents.selectors import consent_counts_by_status
from driver_records.selectors import serials_linked
from jlis_gateway.models import EventKind
from jlis_gateway.selectors import events_oldest_pending, gateway_backlog
from onestop.audit_checkpoints import checkpoint_last
from onestop.metrics import COUNTERS, metric_counters

from .health import heartbeat_age
from .services import BEAT, WORKER


def _timestamp(moment: object) -> float:
    return moment.timestamp() if moment is not None else 0.0  # type: ignore[attr-defined]


def _age(moment: object) -> float:
    return max(0.0, time.time() - moment.timestamp()) if moment is not None else 0.0  # type: ignore[attr-defined]


DUE_SCAN = 500


def oldest_due_at() -> object:
    """When the oldest pending event that can be applied now arrived. An event about a serial no
    record is linked to may rightly wait (an earlier event may link it, up to
    JLIS_UNKNOWN_SERIAL_GRACE_SECONDS): it is not due. Looks at the oldest DUE_SCAN pending events."""
    oldest = events_oldest_pending(limit=DUE_SCAN)
    linked = serials_linked({serial for _at, kind, serial in oldest if kind == EventKind.LATEST_INFO})
    for received_at, kind, serial in oldest:
        if kind != EventKind.LATEST_INFO or serial in linked:
            return received_at
    return None


def _gauges() -> list[Metric]:
    backlog = gateway_backlog()
    poll = backlog.poll
    gauges = [
        _gauge(
            "onestop_jlis_poll_last_success_timestamp_seconds",
            "When J-LIS was last polled successfully (Unix time; 0: never).",
            _timestamp(poll.last_success_at if poll else None),
        ),
        _gauge(
            "onestop_jlis_poll_failing",
            "1 while the latest poll attempt failed (the monitor shows the error).",
            float(bool(poll and poll.last_error)),
        ),
        _gauge("onestop_jlis_events_pending", "Stored J-LIS events not yet applied.", backlog.events_pending),
        _gauge(
            "onestop_jlis_events_oldest_pending_age_seconds",
            "How long the oldest unapplied J-LIS event has waited (0: none waiting).",
            _age(backlog.oldest_pending_at),
        ),
        _gauge(
            "onestop_jlis_events_oldest_due_age_seconds",
            "How long the oldest event that can be applied now has waited (not those waiting for their serial).",
            _age(oldest_due_at()),
        ),
        _gauge(
            "onestop_jlis_events_quarantined",
            "J-LIS events kept unread (quarantined) and not yet served again.",
            backlog.quarantined,
        ),
        _gauge(
            "onestop_outbox_oldest_unsent_age_seconds",
            "How long the oldest submission or revocation still to be sent to J-LIS has waited (0: none).",
            _age(backlog.oldest_unsent_at),
        ),
    ]
    outbox = GaugeMetricFamily("onestop_outbox_messages", "Outbox rows to J-LIS by status.", labels=["status"])
    for status, count in backlog.outbox.items():
        outbox.add_metric([status], count)
    consents = GaugeMetricFamily("onestop_consents", "Consents by status.", labels=["status"])
    for status, count in consent_counts_by_status().items():
        consents.add_metric([status], count)
    heartbeats = GaugeMetricFamily(
        "onestop_heartbeat_age_seconds",
        "Seconds since beat last ticked / a worker last ran beat's heartbeat task (-1: never).",
        labels=["component"],
    )
    for component in (BEAT, WORKER):
        age = heartbeat_age(component)
        heartbeats.add_metric([component], -1.0 if age is None else age)
    checkpoint = checkpoint_last(settings.AUDIT_CHECKPOINT_FILE)
    gauges.append(
        _gauge(
            "onestop_audit_checkpoint_age_seconds",
            "Seconds since the audit chain's head was last signed (-1: never, or no trusted checkpoint).",
            -1.0 if checkpoint is None else _age(datetime.fromisoformat(checkpoint.at)),
        )
    )
    return [*gauges, outbox, consents, heartbeats]


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _counters() -> list[Metric]:
    families: dict[str, CounterMetricFamily] = {}
    samples = sorted(metric_counters(), key=lambda sample: (sample[0], sorted(sample[1].items())))
    for name, labels, value in samples:
        if name not in COUNTERS:
            continue  # written by another version of the code
        key = f"{name}|{','.join(sorted(labels))}"
        family = families.get(key)
        if family is None:
            family = families[key] = CounterMetricFamily(name, COUNTERS[name], labels=sorted(labels))
        family.add_metric([labels[label] for label in sorted(labels)], value)
    return list(families.values())


class OnestopCollector(Collector):
    """Reads the gauges at most every METRICS_CACHE_SECONDS per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cached: list[Metric] = []
        self._read_at = float("-inf")

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            if time.monotonic() - self._read_at > settings.METRICS_CACHE_SECONDS:
                self._cached, self._read_at = _gauges(), time.monotonic()
            gauges = self._cached
        yield from gauges
        yield from _counters()


_registry = CollectorRegistry(auto_describe=False)
_registry.register(OnestopCollector())


def onestop_metrics_text() -> bytes:
    return generate_latest(_registry)
