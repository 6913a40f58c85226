"""B6: the scale curve. B1's applier, B3's counter pages and B4's verification on a smaller and
a larger number of records; one line each with the ratio of the two figures, oriented so that
above 1 is the larger size doing worse (target: at most 1.5 for the applier and the counter).

The sizes: ONESTOP_BENCH_SCALE="SMALL,LARGE" (records); `make bench-scale` sets 1,000,000 and
10,000,000, the issue's curve (about half an hour on 2 cores, most of it loading ten million
records). Unset, B6 prints that it was skipped: even at small sizes it takes minutes (two
scratch databases, two gunicorn rounds), more than `make bench` can add.

What "records" means for each:
- B1 and B3: driver records, 15% of them linked to a serial with their consents (B1's mix), in
  one scratch database per size. The applier's 100,000 events are about 50,000 holders spread
  evenly over all the linked records, so that at the larger size they touch as many rows but
  over ten times the table and its indexes, as moves spread over the country's holders would;
  the counter's holder pages and receipts are of the linked holders of the clerks' prefecture,
  its searches by number and name span every record.
- B4: revoked serials in the revocation store (the CRL entries), the only table a signature's
  verification reads; one store of each size, measured in alternating rounds as B4 does.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connections
from django.utils import timezone

from consents.models import CrlImport

from .b1_apply import applier_measure, ceiling_measure
from .b3_counter import counter_measure
from .b4_verification import Signed, verification_rates
from .population import records_create, settle, vacuum_analyze
from .scratch import add_alias, remove_alias, scratch_database

SCALE_ENV = "ONESTOP_BENCH_SCALE"
LINKED_SHARE = 0.15  # as B1: 150,000 linked of 1,000,000
HOLDERS = 50_000  # the holders the applier's events are about, two events each on average
CLIENTS = 16  # B3's target's number of clients
TARGET = 1.5
STORES = ("b6_crl_small", "b6_crl_large")


@dataclass(frozen=True)
class Point:
    """What was measured on one size."""

    records: int
    loading_s: float
    events_per_s: float
    ceiling_per_s: float
    p95_s: float
    trivial_p95_s: float


def sizes() -> tuple[int, int] | None:
    value = os.environ.get(SCALE_ENV, "")
    if not value:
        return None
    small, large = (int(part.replace("_", "")) for part in value.split(","))
    if not 0 < small < large:
        raise ValueError(f"{SCALE_ENV}: two sizes, the smaller first (got {value!r})")
    return small, large


def run() -> Iterator[str]:
    if not settings.USING_POSTGRES:
        yield "B6 skipped: needs PostgreSQL (set DATABASE_URL)"
        return
    chosen = sizes()
    if chosen is None:
        yield f"B6 skipped: set {SCALE_ENV}=SMALL,LARGE (make bench-scale: 1,000,000 and 10,000,000 records)"
        return
    yield from scale_lines(*chosen)


def scale_lines(small: int, large: int, *, holders: int = HOLDERS) -> Iterator[str]:
    """The point lines of each size, then the three ratio lines."""
    holders = min(holders, linked_of(small) // 3)
    events = 2 * holders
    points = []
    for size in (small, large):
        with scratch_database(f"b6_{size}"):
            point = _point(size, holders=holders, events=events)
        points.append(point)
        yield (
            f"B6 scale_point records={size} linked={linked_of(size)} events_per_s={point.events_per_s:,.0f} "
            f"ceiling_per_s={point.ceiling_per_s:,.0f} p95_ms={point.p95_s * 1000:.0f} "
            f"trivial_p95_ms={point.trivial_p95_s * 1000:.0f} (loading took {point.loading_s:.0f}s)"
        )
    a, b = points
    records = f"records={small}/{large}"
    yield (
        f"B6 scale B1 ratio={a.events_per_s / b.events_per_s:.2f} events_per_s={a.events_per_s:.0f}/"
        f"{b.events_per_s:.0f} ceiling_per_s={a.ceiling_per_s:.0f}/{b.ceiling_per_s:.0f} {records} "
        f"events={events} holders={holders} target<={TARGET}"
    )
    yield (
        f"B6 scale B3 ratio={b.p95_s / a.p95_s:.2f} p95_ms={a.p95_s * 1000:.0f}/{b.p95_s * 1000:.0f} "
        f"trivial_p95_ms={a.trivial_p95_s * 1000:.0f}/{b.trivial_p95_s * 1000:.0f} {records} clients={CLIENTS} "
        f"target<={TARGET}"
    )
    rates, loading = _verification(small, large)
    yield (
        f"B6 scale B4 ratio={rates['small'] / rates['large']:.2f} verifications_per_s={rates['small']:.0f}/"
        f"{rates['large']:.0f} revoked_serials={small}/{large} (loading the stores took {loading:.0f}s)"
    )


def linked_of(records: int) -> int:
    return int(records * LINKED_SHARE)


def spread(*, linked: int, holders: int) -> range:
    """`holders` linked record ids spread evenly over 1..linked, by a step prime to 100 so that
    every category of Holder.of (id % 100) and item set (id % 4) keeps its share."""
    step = max(1, linked // holders)
    while math.gcd(step, 100) != 1:
        step -= 1
    return range(1, 1 + holders * step, step)


def _point(records: int, *, holders: int, events: int) -> Point:
    now = timezone.now()
    linked = linked_of(records)
    started = time.perf_counter()
    records_create(count=records, linked=linked, now=now)
    vacuum_analyze("driver_records_driverrecord", "consents_consent")
    loading_s = time.perf_counter() - started

    about = spread(linked=linked, holders=holders)
    result, applier_s = applier_measure(holders=about, events=events, now=now)
    passes = ceiling_measure(holders=about, applied=result.applied, now=now)
    ceiling_s = sorted(passes)[len(passes) // 2]
    (counter,) = counter_measure(records=records, linked=linked, client_counts=(CLIENTS,))
    return Point(records, loading_s, events / applier_s, events / ceiling_s, counter.p95, counter.trivial_p95)


def _verification(small: int, large: int) -> tuple[dict[str, float], float]:
    """B4's verification against a store of `small` and one of `large` revoked serials."""
    signed = Signed.make()
    for alias in STORES:
        add_alias(alias)
    try:
        started = time.perf_counter()
        with scratch_database(STORES[0], alias=STORES[0]), scratch_database(STORES[1], alias=STORES[1]):
            for alias, count in zip(STORES, (small, large), strict=True):
                _revoked_store_fill(alias, count=count, issuer_key_id=signed.issuer_key_id, now=signed.now)
            loading = time.perf_counter() - started
            rates = verification_rates(signed, {"small": STORES[0], "large": STORES[1]})
    finally:
        for alias in STORES:
            remove_alias(alias)
    return rates, loading


def _revoked_store_fill(alias: str, *, count: int, issuer_key_id: str, now: datetime) -> None:
    """`count` revoked serials as B4's CRL lists them (a seventh with a reason code), written by
    PostgreSQL itself rather than through a CRL of that size (B4 measures the import), and a
    current CRL of the signing CA: the store crl_import leaves."""
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "INSERT INTO consents_revokedcertificate (issuer_key_id, serial, revoked_at, reason)"
            " SELECT %s, (1000000000000000 + i * 7)::text, %s,"
            " CASE WHEN i %% 7 = 0 THEN 'affiliationChanged' ELSE '' END"
            " FROM generate_series(0, %s - 1) AS i",
            [issuer_key_id, now - timedelta(days=1), count],
        )
        cursor.execute("VACUUM ANALYZE consents_revokedcertificate")
    CrlImport.objects.using(alias).create(
        issuer_key_id=issuer_key_id,
        crl_number=1,
        this_update=now,
        next_update=now + timedelta(days=1),
        entries=count,
        imported_at=now,
    )
    settle(using=alias)
