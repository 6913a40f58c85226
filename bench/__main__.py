"""python -m bench [ID ...]: run the benchmarks and print their lines.

Every module bench/b<N>_<name>.py provides `run() -> Iterable[str]`; each line it yields is
printed as soon as it is measured. With ids (B1, b4, ...) only those run; without, all of them.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import sys
import time
from collections.abc import Sequence

import django

MODULE = re.compile(r"^(b\d+)_\w+$")


def benchmarks() -> list[tuple[str, str]]:
    """(id, module name) of every benchmark, in id order."""
    import bench

    found = [(m.group(1), info.name) for info in pkgutil.iter_modules(bench.__path__) if (m := MODULE.match(info.name))]
    return sorted(found, key=lambda item: int(item[0][1:]))


def main(argv: Sequence[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onestop.settings")
    os.environ.setdefault("DJANGO_DEBUG", "0")  # as in production: no query log growing in memory
    django.setup()
    available = benchmarks()
    wanted = {arg.lower() for arg in argv}
    unknown = wanted - {bench_id for bench_id, _ in available}
    if unknown:
        known = ", ".join(bench_id.upper() for bench_id, _ in available)
        print(f"unknown benchmark(s): {', '.join(sorted(unknown))}; known: {known}", file=sys.stderr)
        return 2
    for bench_id, name in available:
        if wanted and bench_id not in wanted:
            continue
        module = importlib.import_module(f"bench.{name}")
        started = time.perf_counter()
        for line in module.run():
            print(line, flush=True)
        print(f"({bench_id.upper()} took {time.perf_counter() - started:.0f}s)", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
