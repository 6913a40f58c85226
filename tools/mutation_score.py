"""Print the mutation score of `mutmut run` per module, and the mutants that survived.

Reads `mutmut results --all true` ("<module>.x_<function>__mutmut_<n>: <status>"). The score is
killed / (killed + survived): a mutant no test reaches counts as survived, a timeout as killed
(the test run noticed something), one mutmut skipped (a type check refused it) counts for neither.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter, defaultdict

LINE = re.compile(r"^\s*(?P<name>[\w.]+)__mutmut_(?P<n>\d+): (?P<status>.+)$")
KILLED = {"killed", "timeout", "segfault"}
SURVIVED = {"survived", "no tests"}


def main() -> int:
    mutmut = [sys.executable, "-m", "mutmut"]
    # A fixed command: this interpreter's mutmut, no input of anyone's.
    output = subprocess.run(  # noqa: S603
        [*mutmut, "results", "--all", "true"], capture_output=True, text=True, check=True
    ).stdout
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    survivors: list[str] = []
    for line in output.splitlines():
        match = LINE.match(line)
        if not match:
            continue
        module = match["name"].rsplit(".x_", 1)[0]
        status = match["status"].strip()
        counts[module][status] += 1
        if status in SURVIVED:
            survivors.append(f"{match['name']}__mutmut_{match['n']} ({status})")
    total_killed = total_scored = 0
    for module in sorted(counts):
        killed = sum(counts[module][s] for s in KILLED)
        scored = killed + sum(counts[module][s] for s in SURVIVED)
        total_killed, total_scored = total_killed + killed, total_scored + scored
        print(f"{module}: {killed}/{scored} killed ({100 * killed / max(scored, 1):.1f}%) {dict(counts[module])}")
    print(f"score: {total_killed}/{total_scored} ({100 * total_killed / max(total_scored, 1):.1f}%)")
    for name in survivors:
        print(f"survived: {name}")
    print("see one: mutmut show <name>")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
