"""gunicorn settings, read from ./gunicorn.conf.py by every gunicorn started in this folder
(Procfile, Dockerfile, docker compose)."""

import os

# Forwarded headers (SCRIPT_NAME, PATH_INFO, X-Forwarded-Proto and the other scheme headers) are
# believed only from the TLS proxy's address(es), ONESTOP_TRUSTED_PROXIES (comma-separated
# addresses or networks; default: none). gunicorn's own default trusts any local process, which
# let a forwarded `SCRIPT_NAME: /accounts` dress any page as a login page (issue 17, finding 1).
# From any other peer they are dropped (SCRIPT_NAME, PATH_INFO) or ignored (the scheme).
forwarded_allow_ips = os.environ.get("ONESTOP_TRUSTED_PROXIES", "")

# Access lines carry the path without its query string, and no referrer: a holder search by
# name travels in the query string (GET /counter/?q=...) and would otherwise land in the log.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s" rid=%({x-request-id}o)s'
# The path and the User-Agent are the client's text: a value written like a My Number is withheld (R14).
logger_class = "onestop.access_log.AccessLogger"


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
