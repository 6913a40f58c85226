"""Processes a benchmark starts on 127.0.0.1 and always stops: the J-LIS simulator, gunicorn."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import requests
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url() -> str:
    """DATABASE_URL for a child process: the database `default` points at now (a scratch one)."""
    return urlparse(settings.DATABASE_URL)._replace(path="/" + connection.settings_dict["NAME"]).geturl()


def child_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url(), "DJANGO_DEBUG": "0", **extra}


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


@contextmanager
def gunicorn(app: str, args: Sequence[str], env: dict[str, str], health: str = "/healthz") -> Iterator[str]:
    """gunicorn serving `app` on a free port of 127.0.0.1; yields its base URL."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="onestop-bench-") as folder:
        log = Path(folder) / "gunicorn.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [str(BIN / "gunicorn"), app, "--bind", f"127.0.0.1:{port}", "--no-control-socket", *args],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        base_url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{app} exited: {log.read_text(errors='replace')[-2000:]}")
                try:
                    if requests.get(base_url + health, timeout=2).status_code < 500:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{app} did not answer in 60s")
                time.sleep(0.2)
            yield base_url
        finally:
            stop(process)


@contextmanager
def simulator() -> Iterator[str]:
    """The J-LIS simulator (its own gunicorn, its own SQLite store in a temporary folder)."""
    with tempfile.TemporaryDirectory(prefix="onestop-bench-sim-") as folder:
        env = {
            **os.environ,
            "JLIS_SIM_DB": str(Path(folder) / "simulator.sqlite3"),
            "JLIS_SIM_JPKI_DIR": str(settings.JPKI_TEST_DIR),
        }
        args = ["--worker-class", "gthread", "--threads", "4", "--workers", "1", "--timeout", "300"]
        with gunicorn("jlis_simulator.wsgi", args, env) as base_url:
            yield base_url
