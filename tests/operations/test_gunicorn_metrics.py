"""django-prometheus's request metrics under gunicorn with several workers: a scrape reaches one
worker, yet must count the requests every worker served (gunicorn.conf.py's multiprocess folder)."""

from __future__ import annotations

import subprocess

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.jlis_fixtures import BIN, ROOT, _stop, celery_env, free_port, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
TOKEN = "scraper-token-for-gunicorn-tests-0123456789"


def readiness_requests(base_url: str) -> float:
    body = requests.get(f"{base_url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10).text
    total = 0.0
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if sample.name == "django_http_requests_total_by_view_transport_method_total" and (
                sample.labels.get("view") == "healthz-ready"
            ):
                total += sample.value
    return total


def test_every_scrape_counts_the_requests_of_every_worker(tmp_path):
    port = free_port()
    env = celery_env(application_name="onestop-test-web", env={"METRICS_TOKEN": TOKEN})
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # gunicorn.conf.py makes one
    with open(tmp_path / "gunicorn.log", "ab") as log:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "onestop.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "3"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:

        def answers() -> bool:
            try:
                return requests.get(f"{base_url}/healthz", timeout=1).ok
            except requests.RequestException:  # not listening yet, or still starting its workers
                return False

        wait_until(answers, 60, "gunicorn to answer")
        # Readiness (not asked by the wait above) answers 503 here: no beat, no worker. Counted all the same.
        with requests.Session() as session:  # one connection per request: the workers share them out
            for _ in range(30):
                response = session.get(f"{base_url}/healthz/ready", headers={"Connection": "close"}, timeout=30)
                assert response.status_code == 503
        counts = {readiness_requests(base_url) for _ in range(6)}
        assert counts == {30.0}, (tmp_path / "gunicorn.log").read_text(errors="replace")[-2000:]
    finally:
        _stop(process)
