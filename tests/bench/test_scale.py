"""B6, the scale curve (bench/b6_scale.py), run end to end at a few thousand records so that it
cannot rot between the rare runs at ten million: scratch databases, the applier, gunicorn and
the counter pages, the revocation stores; and the plot's reading of its lines."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from django.db import connection, connections

from bench import b3_counter, b4_verification
from bench.b6_scale import STORES, scale_lines, spread
from bench.plot_scale import parse
from bench.population import MIX, Holder


def test_the_events_holders_are_spread_over_every_linked_record_in_the_mix_of_categories():
    holders = spread(linked=1_500_000, holders=50_000)

    assert len(holders) == 50_000 and holders[0] >= 1 and holders[-1] <= 1_500_000
    assert holders[-1] > 1_400_000  # over the whole of the linked records, not their start
    # Holder.of: a category is a range of id % 100, its share the range's width (MIX).
    shares = Counter(Holder.of(record_id).category for record_id in holders)
    low = 0
    for high, category in MIX:
        assert shares[category] == 50_000 * (high - low) // 100, category
        low = high


def test_b6_measures_each_size_and_prints_a_ratio_line_per_benchmark(monkeypatch, django_db_blocker):
    if connection.vendor != "postgresql":
        pytest.skip("the bench writes with PostgreSQL's COPY and OVERRIDING SYSTEM VALUE")
    # No test database: B6 makes its scratch databases (and two connection aliases for the
    # revocation stores, which a test case's guard over its databases would refuse) and drops them.
    # Shorter measurements, the same code: a round of 64 pages per phase, two rounds of 10 signatures.
    monkeypatch.setattr(b3_counter, "ROUNDS", 1)
    monkeypatch.setattr(b3_counter, "PER_PHASE", 64)
    monkeypatch.setattr(b4_verification, "ROUNDS", 2)
    monkeypatch.setattr(b4_verification, "PER_ROUND", 10)

    with django_db_blocker.unblock():
        lines = list(scale_lines(2_000, 4_000, holders=100))

    points = [line for line in lines if line.startswith("B6 scale_point ")]
    assert [re.search(r"records=(\d+)", line)[1] for line in points] == ["2000", "4000"]
    for line in points:
        for key in ("events_per_s", "ceiling_per_s", "p95_ms", "trivial_p95_ms"):
            assert float(re.search(rf" {key}=([\d,]+)", line)[1].replace(",", "")) > 0, (key, line)
    figures = parse("\n".join(lines))
    assert set(figures) == {"B1", "B3", "B4"}
    assert figures["B1"]["records"] == figures["B3"]["records"] == (2000, 4000)
    assert figures["B4"]["revoked_serials"] == (2000, 4000)
    # Each ratio is the larger size's figure against the smaller's, above 1 when it does worse:
    # fewer events or verifications a second, a longer p95.
    for bench_id, key, worse_is_higher in (
        ("B1", "events_per_s", False),
        ("B3", "p95_ms", True),
        ("B4", "verifications_per_s", False),
    ):
        small, large = figures[bench_id][key]
        assert small > 0 and large > 0
        expected = large / small if worse_is_higher else small / large
        assert figures[bench_id]["ratio"][0] == pytest.approx(expected, rel=0.05, abs=0.01), bench_id
    assert not set(STORES) & set(connections.settings)  # the stores' aliases are gone with their databases
    assert all("target<=1.5" in line for line in lines if line.startswith(("B6 scale B1", "B6 scale B3")))


def test_the_plot_reads_only_b6s_ratio_lines():
    text = (
        "B1 apply ratio=0.25 events_per_s=5,000\n"
        "B6 scale_point records=1000000 linked=150000 events_per_s=5,000\n"
        "B6 scale B1 ratio=1.25 events_per_s=5000/4000 ceiling_per_s=20000/18000 records=1000000/10000000"
        " events=100000 holders=50000 target<=1.5\n"
    )

    assert parse(text) == {
        "B1": {
            "ratio": (1.25, 1.25),
            "events_per_s": (5000, 4000),
            "ceiling_per_s": (20000, 18000),
            "records": (1_000_000, 10_000_000),
        }
    }
