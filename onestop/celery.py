import os
from contextvars import Token
from typing import Any

from celery import Celery
from celery.signals import setup_logging, task_postrun, task_prerun
from django.db import InterfaceError, OperationalError

from . import broker_patch
from .request_context import request_id_var

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onestop.settings")
broker_patch.install()  # a Redis restart must not kill the worker

app = Celery("onestop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The retry policy of every task whose work is in the database: a lost connection (the server
# restarted, the connection was terminated, a failover) is retried with backoff on a new one.
# Each such task is idempotent, and the transaction the loss interrupted was rolled back.
RETRY_ON_DATABASE_LOSS: dict[str, Any] = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 1,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 8,
}

_tokens: dict[str, Token[str]] = {}


@setup_logging.connect
def _keep_django_logging(**kwargs: Any) -> None:
    """Celery leaves logging alone when this signal has a receiver: the worker and beat log
    through settings.LOGGING (JSON lines, task ids, no personal data), not Celery's text format."""


@task_prerun.connect
def _bind_task_id(task_id: str, **kwargs: Any) -> None:
    # Log lines and audit rows written by a task carry its id, as a request's carry the request id.
    _tokens[task_id] = request_id_var.set(f"task:{task_id}")


@task_postrun.connect
def _unbind_task_id(task_id: str, **kwargs: Any) -> None:
    token = _tokens.pop(task_id, None)
    if token is not None:
        request_id_var.reset(token)
