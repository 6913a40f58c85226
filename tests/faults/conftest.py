"""Fixtures of the fault scenarios: workers that are killed and restarted, a Redis of their own."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings

from onestop.celery import app
from tests.consents.conftest import (  # noqa: F401 (shared fixtures)
    demo_cards,
    jpki_test_dir,
    make_statement,
    record,
    terms,
)
from tests.jlis_fixtures import WorkerProcess, free_port, wait_until, worker_start
from tests.jlis_gateway.conftest import holder_card, signed_consent  # noqa: F401 (shared fixtures)

# Tasks whose worker died unacknowledged come back after this many seconds (the broker's
# visibility timeout), looked for every second: the production values (3600 s, ~100 s) would
# make a test wait an hour. The short timeout also hands a task that is still running back to
# the queue; with one pool process the copy waits for the slot, then finds its work done.
FAST_REDELIVERY = {"CELERY_VISIBILITY_TIMEOUT": "5", "CELERY_UNACKED_RESTORE_SECONDS": "1"}


def pool_processes(pid: int) -> list[int]:
    """The worker's pool processes (its children), read from /proc."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry.name))
    return children


def broker_reset(url: str | None = None) -> None:
    """Empty this run's queue and the broker's unacknowledged set (this run's Redis db only)."""
    with app.connection_for_write(url) as broker:
        broker.default_channel.queue_purge(settings.CELERY_TASK_DEFAULT_QUEUE)
    client = redis.Redis.from_url(url or settings.REDIS_URL)
    client.delete("unacked", "unacked_index", "unacked_mutex")


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    """workers(**options) starts a real worker (tests.jlis_fixtures.worker_start) logging to
    tmp_path/worker.log; every worker started is gone after the test, even one it failed in."""
    started: list[WorkerProcess] = []

    def start(**options: Any) -> WorkerProcess:
        options.setdefault("log", tmp_path / "worker.log")
        worker = worker_start(**options)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
        with suppress(ProcessLookupError):
            os.killpg(worker.process.pid, signal.SIGKILL)  # and its pool, whatever became of the main process


@pytest.fixture
def clean_broker(transactional_db: None) -> Iterator[None]:
    broker_reset()
    yield
    broker_reset()


@dataclass
class RedisServer:
    """A redis-server of this test's own, on a free port, that the test may kill and restart."""

    port: int
    folder: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = open(self.folder / "redis.log", "ab")  # noqa: SIM115 (kept open by the server)
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_until(self.answers, 20, "the test's redis-server to answer")

    def answers(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.2).ping())
        except redis.RedisError:
            return False

    def kill(self) -> None:
        """kill -9: everything the server held (queued tasks, unacknowledged ones, locks) is gone."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        reason = "the redis-server program is not installed (a test's own Redis is started from it)"
        if settings.REQUIRE_SERVICES:
            pytest.fail(reason)
        pytest.skip(reason)
    server = RedisServer(free_port(), tmp_path)
    server.start()
    yield server
    server.stop()


def sweep_until(condition: Callable[[], bool], task: Any, timeout: float, message: str, every: float = 5.0) -> None:
    """Wait for the condition, queueing the task every few seconds meanwhile, as beat would."""
    deadline = time.monotonic() + timeout
    next_sweep = time.monotonic()
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout:.0f}s for {message}")
        if time.monotonic() >= next_sweep:
            task.delay()
            next_sweep = time.monotonic() + every
        time.sleep(0.2)


def log_count(path: Path, text: str) -> int:
    return path.read_text(errors="replace").count(text) if path.exists() else 0
