"""The health checks: is each part of the system doing its work, against the thresholds in
settings (HEALTH_*). The database check and the worker ping are django-health-check's; the rest
read our own state. Each answer is a short sentence with figures, never personal data."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import redis
from django.conf import settings
from django.utils import timezone
from health_check.base import HealthCheck
from health_check.checks import Database
from health_check.contrib.celery import Ping
from health_check.exceptions import HealthCheckException, ServiceUnavailable

from jlis_gateway.selectors import gateway_backlog

from .models import Heartbeat
from .services import BEAT, WORKER

logger = logging.getLogger(__name__)


def _age_seconds(moment: datetime | None) -> float | None:
    return None if moment is None else max(0.0, (timezone.now() - moment).total_seconds())


def heartbeat_age(component: str) -> float | None:
    return _age_seconds(Heartbeat.objects.filter(component=component).values_list("at", flat=True).first())


def _too_old(what: str, age: float | None, limit: int) -> None:
    if age is None:
        raise ServiceUnavailable(f"{what}: never")
    if age > limit:
        raise ServiceUnavailable(f"{what}: {age:.0f} s ago (limit {limit} s)")


@dataclasses.dataclass
class WorkerAnswers(HealthCheck):
    """A worker ran beat's heartbeat task lately (so the queue is being worked), and, on Redis,
    a worker answers a ping (the embedded broker has no broadcast)."""

    def run(self) -> None:
        _too_old("worker last ran the heartbeat task", heartbeat_age(WORKER), settings.HEALTH_WORKER_MAX_AGE_SECONDS)
        if settings.REDIS_URL:
            Ping(timeout=timedelta(seconds=settings.HEALTH_WORKER_PING_SECONDS), limit=1).run()


@dataclasses.dataclass
class BeatTicks(HealthCheck):
    def run(self) -> None:
        _too_old("beat last ticked", heartbeat_age(BEAT), settings.HEALTH_BEAT_MAX_AGE_SECONDS)


@dataclasses.dataclass
class JlisPolled(HealthCheck):
    def run(self) -> None:
        poll = gateway_backlog().poll
        _too_old(
            "J-LIS last polled successfully",
            _age_seconds(poll.last_success_at if poll else None),
            settings.HEALTH_POLL_MAX_AGE_SECONDS,
        )


@dataclasses.dataclass
class OutboxFlowing(HealthCheck):
    """The oldest consent submission or revocation still to be sent has not waited too long.
    Rows that gave up (failed) need a person: they are a metric and an alert, not this check."""

    def run(self) -> None:
        age = _age_seconds(gateway_backlog().oldest_unsent_at)
        if age is not None and age > settings.HEALTH_OUTBOX_MAX_AGE_SECONDS:
            raise ServiceUnavailable(
                f"oldest unsent outbox row waited {age:.0f} s (limit {settings.HEALTH_OUTBOX_MAX_AGE_SECONDS} s)"
            )


@dataclasses.dataclass(frozen=True)
class Outcome:
    name: str
    ok: bool
    detail: str


def _redis_check() -> None:
    """A ping, synchronously: django-health-check's Redis check is asynchronous and would need an
    event loop of its own in a thread that may already run one."""
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        raise ServiceUnavailable(f"Redis does not answer ({type(exc).__name__})") from exc


CHECKS: dict[str, Callable[[], None]] = {
    "database": lambda: Database().run(),
    "redis": _redis_check,
    "worker": lambda: WorkerAnswers().run(),
    "beat": lambda: BeatTicks().run(),
    "jlis_poll": lambda: JlisPolled().run(),
    "outbox": lambda: OutboxFlowing().run(),
}


def checks_run(names: list[str] | None = None) -> list[Outcome]:
    """Run the named checks (all by default) one after another, in this thread: each bounds
    its own wait (client timeouts), and the database check's connection is the request's."""
    wanted = names or [name for name in CHECKS if name != "redis" or settings.REDIS_URL]
    outcomes = []
    for name in wanted:
        try:
            CHECKS[name]()
        except HealthCheckException as problem:
            outcomes.append(Outcome(name, False, problem.message))
        except Exception as exc:  # a check that breaks says so, without the exception's text
            logger.exception("health check %s broke", name)
            outcomes.append(Outcome(name, False, f"check failed ({type(exc).__name__})"))
        else:
            outcomes.append(Outcome(name, True, "ok"))
    return outcomes
