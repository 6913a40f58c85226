"""B2: J-LIS to driver records end to end. The simulator serves 100,000 events over HTTP; one
worker process polls them page by page (as the poll task does), stores them and applies them.

Figures: its throughput, as a ratio to B1's applier rate (when B1 ran in this run; otherwise to
the applying part of this same run), and the worker's peak memory, also for a 20,000-event
feed: the same peak shows that memory does not grow with the number of events.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

from django.conf import settings
from django.utils import timezone

from jlis_simulator.control import SimulatorControl

from . import figures
from .population import records_create, settle, simulator_holders_create, vacuum_analyze
from .scratch import scratch_database
from .services import ROOT, child_env, simulator

EVENTS = 100_000
SMALL = 20_000
BACKGROUND_RECORDS = 300_000  # records no event is about
WORKER_SECONDS = 300


def run() -> Iterator[str]:
    if not settings.USING_POSTGRES:
        yield "B2 skipped: needs PostgreSQL (set DATABASE_URL)"
        return
    with scratch_database("b2"), simulator() as base_url:
        yield from _measure(base_url)


def _measure(base_url: str) -> Iterator[str]:
    now = timezone.now()
    control = SimulatorControl(base_url, timeout=300)
    control.reset()
    records_create(count=BACKGROUND_RECORDS, linked=0, now=now)
    next_id = BACKGROUND_RECORDS + 1
    runs = {}
    for seed, count in enumerate((SMALL, EVENTS), start=1):
        generated = control.generate(count=count, holders=count // 2, seed=seed)
        simulator_holders_create(generated["holders"], first_id=next_id, now=now)
        next_id += len(generated["holders"])
        del generated
        vacuum_analyze("driver_records_driverrecord", "consents_consent", "jlis_gateway_jlisevent")
        settle()
        runs[count] = _worker(base_url)
        assert runs[count]["stored"] == count and runs[count]["applied"] == count, runs[count]
    big, small = runs[EVENTS], runs[SMALL]
    per_s = EVENTS / big["seconds"]
    apply_per_s = EVENTS / big["apply_seconds"]
    baseline, baseline_name = figures.measured.get("B1.events_per_s"), "B1"
    if baseline is None:
        baseline, baseline_name = apply_per_s, "apply_only"
    yield (
        f"B2 end_to_end ratio={per_s / baseline:.2f} events_per_s={per_s:,.0f} "
        f"peak_rss_mb={big['peak_rss_kb'] / 1024:.0f} peak_rss_mb_20k={small['peak_rss_kb'] / 1024:.0f} "
        f"baseline={baseline_name} baseline_per_s={baseline:,.0f} poll_per_s={EVENTS / big['poll_seconds']:,.0f} "
        f"apply_per_s={apply_per_s:,.0f} events={EVENTS} seconds={big['seconds']:.1f} "
        f"page_size={settings.JLIS_PAGE_SIZE} polls={big['polls']}"
    )


def _worker(base_url: str) -> dict:
    """One worker process, from start to drained feed; what it printed."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.pipeline_worker", str(WORKER_SECONDS)],
        cwd=ROOT,
        env=child_env(JLIS_BASE_URL=base_url),
        capture_output=True,
        timeout=WORKER_SECONDS + 60,
        check=False,
    )
    lines = [line for line in done.stdout.decode().splitlines() if line.startswith('{"stored"') or '"error"' in line]
    answer = json.loads(lines[-1]) if lines else {"error": "no answer"}
    if done.returncode != 0 or "error" in answer:
        output = (done.stdout + done.stderr).decode(errors="replace")[-2000:]
        raise RuntimeError(f"the worker failed: {answer.get('error', '')} {output}")
    return answer
