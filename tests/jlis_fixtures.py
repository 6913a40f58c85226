"""Shared fixtures for anything that talks to J-LIS: the simulator and a real Celery worker.

Imported by tests/conftest.py, so every test package can use them:
- `jlis_simulator_server` (session): the simulator as a real subprocess (gunicorn) on a free
  port, with its own temporary store and the app's JPKI-TEST hierarchy. Its `.base_url`.
- `jlis_simulator` (function): the same simulator, reset to empty, with settings.JLIS_BASE_URL
  pointing at it and short retry delays. Returns a `SimulatorControl` (move, expire, fault...).
- `celery_worker_process` (function, needs PostgreSQL and Redis; mark the test
  `@pytest.mark.celery_worker`): a real `celery -A onestop worker` subprocess on this run's
  queue, connected to the test database and to the simulator. The fixture brings in
  `transactional_db`, because the worker sees only committed rows. Use `wait_until` to wait for
  what the worker does. The worker lives for the session; its queue is purged at start.
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
