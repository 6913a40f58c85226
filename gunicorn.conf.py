"""gunicorn settings, read from ./gunicorn.conf.py by every gunicorn started in this folder
(Procfile, Dockerfile, docker compose)."""

# Access lines carry the path without its query string, and no referrer: a holder search by
# name travels in the query string (GET /counter/?q=...) and would otherwise land in the log.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s" rid=%({x-request-id}o)s'


def on_starting(server: object) -> None:
    """django-prometheus's request metrics, summed over every worker of this gunicorn: each
    worker writes its samples under PROMETHEUS_MULTIPROC_DIR, which must be empty at start."""
    import os
    import tempfile
    from pathlib import Path

    folder = Path(os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="onestop-metrics-")))
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()


def child_exit(server: object, worker: object) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
