"""python -m bench.pipeline_worker SECONDS: what a worker does with J-LIS's feed, in one process.

Polls (page by page, as the poll task does) and applies what it stored, until the feed has no
more, then prints one JSON line: counts, the time spent polling and applying, and the process's
peak resident memory. Runs against DATABASE_URL and JLIS_BASE_URL; gives up after SECONDS.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time


def peak_rss_kb() -> int:
    """This process's peak resident memory: VmHWM, which starts afresh at exec (getrusage's
    ru_maxrss would carry over the parent's peak on Linux)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main(limit_seconds: float) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onestop.settings")
    import django

    django.setup()
    from applier.batch import events_apply_pending
    from jlis_gateway.services.poll import events_poll

    started = time.perf_counter()
    poll_s = apply_s = 0.0
    stored = applied = skipped = polls = 0
    while True:
        t = time.perf_counter()
        polled = events_poll()
        poll_s += time.perf_counter() - t
        if polled.status != "done":
            print(json.dumps({"error": f"poll {polled.status}: {polled.error}"}))
            return 1
        t = time.perf_counter()
        result = events_apply_pending()
        apply_s += time.perf_counter() - t
        stored, applied, skipped, polls = (
            stored + polled.stored,
            applied + result.applied,
            skipped + result.skipped,
            polls + 1,
        )
        if not polled.has_more:
            break
        if time.perf_counter() - started > limit_seconds:
            print(json.dumps({"error": f"not drained in {limit_seconds:.0f}s"}))
            return 1
    print(
        json.dumps(
            {
                "stored": stored,
                "applied": applied,
                "skipped": skipped,
                "polls": polls,
                "seconds": time.perf_counter() - started,
                "poll_seconds": poll_s,
                "apply_seconds": apply_s,
                "peak_rss_kb": peak_rss_kb(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(float(sys.argv[1]) if len(sys.argv) > 1 else 600))
