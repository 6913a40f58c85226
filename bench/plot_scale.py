"""python -m bench.plot_scale LINES [PNG]: the scale curve's plot from B6's lines.

LINES is a file holding the output of `make bench-scale` (other lines are ignored); PNG defaults
to docs/img/scale-curve.png. One panel per benchmark: its figures at the two sizes, records on a
logarithmic axis, and the ratio the line printed. Needs matplotlib (the dev extra).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

LINE = re.compile(r"^B6 scale (B\d) ratio=([\d.]+) (.*)$")
PAIR = re.compile(r"(\w+)=([\d.]+)/([\d.]+)")
DEFAULT_PNG = Path(__file__).resolve().parent.parent / "docs" / "img" / "scale-curve.png"

# (benchmark, title, [(key, label)], y axis)
PANELS = (
    ("B1", "B1 applier", [("events_per_s", "applier"), ("ceiling_per_s", "set-based ceiling")], "events/s"),
    ("B3", "B3 counter pages", [("p95_ms", "pages"), ("trivial_p95_ms", "trivial view")], "p95 ms, 16 clients"),
    ("B4", "B4 verification", [("verifications_per_s", "consent signature")], "verifications/s"),
)
TARGET = {"B1": "1.5", "B3": "1.5"}
SIZE_KEYS = ("records", "revoked_serials")


def parse(text: str) -> dict[str, dict[str, tuple[float, float]]]:
    """{"B1": {"ratio": (r, r), "records": (small, large), "events_per_s": (a, b), ...}, ...}"""
    found: dict[str, dict[str, tuple[float, float]]] = {}
    for line in text.splitlines():
        match = LINE.match(line.strip())
        if not match:
            continue
        bench_id, ratio, rest = match.groups()
        figures = {key: (float(a), float(b)) for key, a, b in PAIR.findall(rest)}
        figures["ratio"] = (float(ratio), float(ratio))
        found[bench_id] = figures
    return found


def plot(figures: dict[str, dict[str, tuple[float, float]]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [panel for panel in PANELS if panel[0] in figures]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.8), squeeze=False)
    for axis, (bench_id, title, series, ylabel) in zip(axes[0], panels, strict=True):
        these = figures[bench_id]
        sizes = next(these[key] for key in SIZE_KEYS if key in these)
        for key, label in series:
            if key in these:
                axis.plot(sizes, these[key], marker="o", label=label)
                for x, y in zip(sizes, these[key], strict=True):
                    axis.annotate(f"{y:,.0f}", (x, y), textcoords="offset points", xytext=(0, 6), ha="center")
        axis.set_xscale("log")
        axis.set_xticks(sizes, [f"{s / 1e6:g}M" for s in sizes])
        axis.minorticks_off()
        axis.set_ylim(bottom=0, top=axis.get_ylim()[1] * 1.15)
        axis.set_xlabel("revoked serials" if bench_id == "B4" else "driver records")
        axis.set_ylabel(ylabel)
        target = f", target ≤ {TARGET[bench_id]}" if bench_id in TARGET else ""
        axis.set_title(f"{title}: ratio {these['ratio'][0]:.2f}{target}", fontsize=10)
        axis.legend(fontsize=8, loc="lower left")
        axis.grid(alpha=0.3)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    figures = parse(Path(argv[0]).read_text())
    if not figures:
        print(f"no 'B6 scale' lines in {argv[0]}", file=sys.stderr)
        return 1
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_PNG
    plot(figures, out)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
