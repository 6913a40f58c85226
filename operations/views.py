"""Health and metrics endpoints, for load balancers, docker and Prometheus (docs/operations.md)."""

from __future__ import annotations

import os

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

from .health import checks_run
from .metrics import onestop_metrics_text


@require_GET
@never_cache
def live(request: HttpRequest) -> JsonResponse:
    """Liveness: this process answers. It checks nothing else, so that a database or J-LIS
    outage never makes an orchestrator restart web processes that are fine."""
    return JsonResponse({"status": "ok"})


@require_GET
@never_cache
def ready(request: HttpRequest) -> JsonResponse:
    """Readiness of the whole system: database, Redis, a worker, beat, J-LIS polling and the
    outbox, each against its threshold. 503 names what is failing."""
    outcomes = checks_run()
    ok = all(outcome.ok for outcome in outcomes)
    body = {
        "status": "ok" if ok else "failing",
        "checks": {outcome.name: {"ok": outcome.ok, "detail": outcome.detail} for outcome in outcomes},
    }
    return JsonResponse(body, status=200 if ok else 503)


def _web_metrics() -> bytes:
    """django-prometheus's request metrics; across gunicorn's workers when it runs several
    (gunicorn.conf.py sets PROMETHEUS_MULTIPROC_DIR for them)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


@require_GET
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics, for a scraper holding METRICS_TOKEN; unset, the endpoint does not exist."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    if not constant_time_compare(request.headers.get("Authorization", ""), f"Bearer {token}"):
        return HttpResponse(
            "metrics need the scraper's bearer token\n",
            status=401,
            content_type="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    return HttpResponse(_web_metrics() + onestop_metrics_text(), content_type=CONTENT_TYPE_LATEST)
