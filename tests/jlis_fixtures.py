"""Shared fixtures for anything that talks to J-LIS: the simulator and a real Celery worker.

Imported by tests/conftest.py, so every test package can use them:
- `jlis_simulator_server` (session): the simulator as a real subprocess (gunicorn) on a free
  port, with its own temporary store and the app's JPKI-TEST hierarchy. Its `.base_url`.
- `jlis_simulator` (function): the same simulator, reset to empty, with settings.JLIS_BASE_URL
  pointing at it and short retry delays. Returns a `SimulatorControl` (move, expire, fault...).
- `celery_worker_process` (function, needs PostgreSQL and Redis; mark the test
  `@pytest.mark.celery_worker`): a real `celery -A onestop worker` subprocess on this run's
  queue (CELERY_QUEUE), connected to the test database and to the simulator. It brings in
  `transactional_db` (the worker sees only committed rows) and `jlis_simulator`. Use
  `wait_until` to wait for what the worker does. It lives for one test: the queue is purged
  before it starts (tasks other tests queued after their commits) and it is stopped after, so
  no worker runs behind the tests that do not ask for one.
- `worker_start(log=..., env=..., broker_url=...)`: the same worker started by hand, for tests
  that kill, restart or reconfigure it (tests/faults).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from django.conf import settings

from jlis_simulator.control import SimulatorControl

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# What the simulator-backed processes use: fast retries, a short timeout for the delay faults.
FAST_JLIS = {
    "JLIS_TIMEOUT_SECONDS": "2",
    "JLIS_RETRIES": "2",
    "JLIS_BACKOFF_SECONDS": "0.05",
    "JLIS_OUTBOX_RETRY_SECONDS": "0.2",
    "JLIS_PAGE_SIZE": "50",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition: Callable[[], object], timeout: float = 60.0, message: str = "condition") -> None:
    """Wait for another process to have done something; fail (not hang) if it never does."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout:.0f}s for {message}")
        time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@dataclass
class SimulatorServer:
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path


@pytest.fixture(scope="session")
def jlis_simulator_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorServer]:
    folder = tmp_path_factory.mktemp("jlis-simulator")
    port = free_port()
    env = {
        **os.environ,
        "JLIS_SIM_DB": str(folder / "simulator.sqlite3"),
        "JLIS_SIM_JPKI_DIR": str(settings.JPKI_TEST_DIR),
    }
    log = folder / "simulator.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "jlis_simulator.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--worker-class",
                "gthread",
                "--threads",
                "16",
                "--workers",
                "1",
                "--timeout",
                "120",
                "--no-control-socket",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = SimulatorServer(f"http://127.0.0.1:{port}", process, log)

    def answers() -> bool:
        if process.poll() is not None:
            pytest.fail(f"the simulator exited: {log.read_text()[-2000:]}")
        try:
            return requests.get(server.base_url + "/healthz", timeout=1).ok
        except requests.RequestException:
            return False

    wait_until(answers, 30, "the simulator to answer")
    yield server
    _stop(process)


@pytest.fixture
def jlis_simulator(jlis_simulator_server: SimulatorServer, settings) -> SimulatorControl:
    control = SimulatorControl(jlis_simulator_server.base_url)
    control.reset()
    settings.JLIS_BASE_URL = jlis_simulator_server.base_url
    for name, value in FAST_JLIS.items():
        setattr(settings, name, type(getattr(settings, name))(value))
    return control


@dataclass
class WorkerProcess:
    hostname: str
    queue: str
    log: Path
    process: subprocess.Popen[bytes]

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def kill(self) -> None:
        """kill -9 the worker and its pool processes at once, as a crashed machine would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        _stop(self.process)


def celery_env(
    *, env: dict[str, str] | None = None, broker_url: str | None = None, application_name: str = "onestop-test-worker"
) -> dict[str, str]:
    """The environment of a Celery process (worker or beat) of this test run: the test database
    (its connections named `application_name` in pg_stat_activity), this run's queue, Redis
    (or `broker_url`), the simulator, fast J-LIS retries; `env` adds or overrides."""
    from urllib.parse import parse_qsl, urlencode, urlparse

    from django.db import connection

    url = urlparse(settings.DATABASE_URL)
    query = urlencode([*parse_qsl(url.query), ("application_name", application_name)])
    return {
        **os.environ,
        **FAST_JLIS,
        "ONESTOP_ENV": "test",
        "DATABASE_URL": url._replace(path="/" + connection.settings_dict["NAME"], query=query).geturl(),
        "REDIS_URL": broker_url or settings.REDIS_URL,
        "CELERY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "JLIS_BASE_URL": settings.JLIS_BASE_URL,
        "ONESTOP_VAR_DIR": str(settings.VAR_DIR),
        # The test's own audit checkpoints and key (tests/conftest.py), not a developer's under var/.
        "ONESTOP_AUDIT_CHECKPOINT_FILE": str(settings.AUDIT_CHECKPOINT_FILE),
        **(
            {"ONESTOP_AUDIT_SIGNING_KEY_FILE": key}
            if (key := settings.AUDIT_SIGNING_KEY_FILE) and os.path.exists(key)
            else {}
        ),
        **(env or {}),
    }


def worker_start(
    *,
    log: Path,
    env: dict[str, str] | None = None,
    hostname: str | None = None,
    concurrency: int = 2,
    broker_url: str | None = None,
    application_name: str = "onestop-test-worker",
) -> WorkerProcess:
    """Start a real `celery -A onestop worker` on this run's queue and test database; wait for it.

    It runs in its own process group (WorkerProcess.kill takes the pool with it). `env` adds to
    or overrides the worker's environment (celery_env); `broker_url` points it (and the ping)
    at another Redis.
    """
    from celery import Celery

    from onestop.celery import app

    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    hostname = hostname or f"test-{queue}@{socket.gethostname()}"
    full_env = celery_env(env=env, broker_url=broker_url, application_name=application_name)
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [
                str(BIN / "celery"),
                "-A",
                "onestop",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                str(concurrency),
                "--queues",
                queue,
                "--hostname",
                hostname,
                "--without-mingle",
                "--without-gossip",
            ],
            cwd=ROOT,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    worker = WorkerProcess(hostname, queue, log, process)
    # Another broker is asked through an app of its own (a connection passed to this app's
    # control would still wait for the replies on this app's broker).
    control = Celery("control", broker=broker_url, set_as_current=False).control if broker_url else app.control

    def ready() -> bool:
        if process.poll() is not None:
            pytest.fail(f"the Celery worker exited: {worker.log_tail()}")
        return bool(control.ping(destination=[hostname], timeout=0.5))

    wait_until(ready, 60, "the Celery worker to answer")
    return worker


@pytest.fixture
def celery_worker_process(
    transactional_db: None,
    jlis_simulator: SimulatorControl,
    jlis_simulator_server: SimulatorServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[WorkerProcess]:
    """A real worker on this run's queue and test database, for one test (module docstring)."""
    from onestop.celery import app

    with app.connection_for_write() as broker:
        # Tasks queued by earlier tests are not this one's.
        broker.default_channel.queue_purge(settings.CELERY_TASK_DEFAULT_QUEUE)
    worker = worker_start(log=tmp_path_factory.mktemp("celery-worker") / "worker.log")
    yield worker
    worker.stop()


@dataclass
class BeatProcess:
    log: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(15)


def beat_start(*, folder: Path, env: dict[str, str], broker_url: str | None = None) -> BeatProcess:
    """A real `celery -A onestop beat` with this run's settings and its schedule file in `folder`."""
    log = folder / "beat.log"
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [str(BIN / "celery"), "-A", "onestop", "beat", "--loglevel", "INFO", "--schedule",
             str(folder / "beat-schedule"), "--pidfile", str(folder / "beat.pid")],
            cwd=ROOT,
            env=celery_env(env=env, broker_url=broker_url, application_name="onestop-test-beat"),
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    return BeatProcess(log, process)
