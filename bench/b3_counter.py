"""B3: the counter pages (holder search, holder page, receipt) under 16 and then 64 concurrent
clients, on gunicorn over PostgreSQL, against a trivial view served the same way (same gunicorn,
middleware, login and role guard) at the same number of clients. Median and 95th-percentile
latency; the ratio is of the p95s, one line per number of clients.

The data: 100,000 records, 30,000 of them with consents and 6,000 with J-LIS history (applied
by the applier), in a scratch database made for the run and dropped after. The clients are
clerks of a Tokyo office whose sessions are created directly, second factor given; they open
the holder pages and receipts of Tokyo's holders (the object-scope rule shows personal data only
there) and search across every prefecture.
"""

from __future__ import annotations

import gc
import http.client
import random
import statistics
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from applier.batch import events_apply_pending
from consents.models import Consent
from driver_records.models import DriverRecord
from onestop.models import Office, User
from onestop.roles import Role

from .population import (
    FAMILY,
    NAMES,
    SERIAL_BASE,
    events_copy,
    latest_info_events,
    records_create,
    settle,
    vacuum_analyze,
)
from .scratch import scratch_database
from .services import child_env, gunicorn

RECORDS = 100_000
LINKED = 30_000
EVENTS = 10_000
CLIENT_COUNTS = (16, 64)  # one line each; the first is the target's (p95 within 3x the trivial view's)
ROUNDS = 4
# Requests per phase, whatever the number of clients (25 each for 16 clients, 6 each for 64): each
# round has a pages phase and a trivial phase, and every count gets the same sample of pages.
PER_PHASE = 400
PHASE_SECONDS = 60  # a phase that takes longer stops there (and the line says how many were made)
GUNICORN = ["--workers", "2", "--threads", "4", "--timeout", "60"]  # as the Procfile's web process
TRIVIAL = "/bench/trivial/"


def run() -> Iterator[str]:
    if not settings.USING_POSTGRES:
        yield "B3 skipped: needs PostgreSQL (set DATABASE_URL)"
        return
    with scratch_database("b3"):
        now = timezone.now()
        records_create(count=RECORDS, linked=LINKED, now=now)
        events_copy(
            latest_info_events(
                holders=range(1, 6_001), count=EVENTS, now=now, seed=3, prefix="b3", serial_start=2 * SERIAL_BASE
            )
        )
        events_apply_pending()
        for figures in counter_measure(records=RECORDS, linked=LINKED, client_counts=CLIENT_COUNTS):
            yield figures.line()


def counter_measure(*, records: int, linked: int, client_counts: tuple[int, ...]) -> Iterator[CounterFigures]:
    """The counter pages against the trivial view at each number of clients, on the records in
    the database (ids 1..records, the first `linked` linked): clerks, their sessions and a sample
    of pages made first, then one gunicorn serving every count."""
    cookies, paths = _clerks_and_paths(records=records, linked=linked, clients=max(client_counts))
    env = child_env(DJANGO_SETTINGS_MODULE="bench.site_settings")
    with gunicorn("onestop.wsgi", GUNICORN, env) as base_url:
        for clients in client_counts:
            yield _measure(base_url, cookies[:clients], paths, records=records)


def _clerks_and_paths(*, records: int, linked: int, clients: int) -> tuple[list[str], list[str]]:
    office = Office.objects.create(code="13-BENCH", name="府中運転免許試験場", kind="licence_centre", prefecture="13")
    clerks = []
    for n in range(clients):
        clerk = User.objects.create_user(username=f"bench_clerk_{n}", password=None)
        clerk.office = office
        clerk.save(update_fields=["office"])
        clerk.groups.add(Group.objects.get(name=Role.CLERK.value))
        TOTPDevice.objects.create(user=clerk, name="authenticator", confirmed=True)
        clerks.append(clerk)
    Consent.objects.update(office=office, clerk=clerks[0])
    vacuum_analyze(
        "driver_records_driverrecord", "driver_records_recordchange", "consents_consent", "jlis_gateway_jlisevent",
        "onestop_auditevent",
    )  # fmt: skip
    cookies = []
    for clerk in clerks:
        session = SessionStore()
        session[SESSION_KEY] = str(clerk.pk)
        session[BACKEND_SESSION_KEY] = "onestop.auth_backend.StaffBackend"
        session[HASH_SESSION_KEY] = clerk.get_session_auth_hash()
        session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=clerk).persistent_id  # as after the code
        session.create()
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={session.session_key}")
    rng = random.Random(3)
    # Holder pages and receipts of the holders the clerks serve (their office's prefecture): the
    # pages with personal data. The search spans every prefecture (elsewhere: the directory only).
    served = DriverRecord.objects.filter(pk__lte=linked, prefecture=office.prefecture)
    record_ids = list(served.values_list("pk", flat=True))
    consent_ids = list(Consent.objects.filter(record__prefecture=office.prefecture).values_list("pk", flat=True))
    numbers = list(DriverRecord.objects.filter(pk__lte=records, pk__gt=0).values_list("number", flat=True)[:5000])
    paths = []
    for _ in range(PER_PHASE * ROUNDS):
        kind = len(paths) % 3
        if kind == 0:
            query = rng.choice([rng.choice(numbers), rng.choice(numbers), rng.choice(NAMES), rng.choice(FAMILY)])
            paths.append("/counter/?q=" + quote(query))
        elif kind == 1:
            paths.append(f"/counter/records/{rng.choice(record_ids)}/")
        else:
            paths.append(f"/counter/consents/{rng.choice(consent_ids)}/receipt/")
    rng.shuffle(paths)
    settle()  # neither this load's writes nor an earlier benchmark's are flushed while timing
    connection.close()  # gunicorn's workers take over the database
    gc.collect()
    return cookies, paths


class _Client(threading.Thread):
    """One counter terminal: a keep-alive connection and a clerk's session."""

    def __init__(self, host: str, port: int, cookie: str) -> None:
        super().__init__(daemon=True)
        self.connection = http.client.HTTPConnection(host, port, timeout=30)
        self.headers = {"Cookie": cookie, "Accept-Language": "ja"}
        self.work: list[str] = []
        self.latencies: list[tuple[str, float]] = []
        self.error = ""
        self.deadline = 0.0
        self.start_gate = threading.Barrier(1)

    def get(self, path: str) -> float:
        started = time.perf_counter()
        self.connection.request("GET", path, headers=self.headers)
        response = self.connection.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
        # An exact record number answers with a redirect to the holder's page (timed on its own).
        if response.status != 200 and not (response.status == 302 and path.startswith("/counter/?q=")):
            raise RuntimeError(f"GET {path.split('?')[0]} answered {response.status}: {body[:200]!r}")
        return elapsed

    def run(self) -> None:
        try:
            self.start_gate.wait()
            for path in self.work:
                if time.perf_counter() > self.deadline:
                    break
                self.latencies.append((path, self.get(path)))
        except Exception as exc:  # reported by the phase
            self.error = f"{type(exc).__name__}: {exc}"


def _phase(base: tuple[str, int], cookies: list[str], work: list[list[str]]) -> tuple[list[tuple[str, float]], float]:
    """All clients at once, each through its list; the latencies and the phase's duration."""
    gate = threading.Barrier(len(cookies) + 1)
    clients = []
    for cookie, paths in zip(cookies, work, strict=True):
        client = _Client(*base, cookie)
        client.work, client.start_gate = paths, gate
        client.deadline = time.perf_counter() + PHASE_SECONDS
        client.start()
        clients.append(client)
    gate.wait()
    started = time.perf_counter()
    for client in clients:
        client.join(PHASE_SECONDS + 30)
    duration = time.perf_counter() - started
    errors = [c.error for c in clients if c.error]
    if errors:
        raise RuntimeError(f"B3 client failed: {errors[0]}")
    for client in clients:
        client.connection.close()
    return [pair for client in clients for pair in client.latencies], duration


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass(frozen=True)
class CounterFigures:
    clients: int
    records: int
    pages: list[float]  # seconds, every page request timed
    trivial: list[float]
    by_kind: dict[str, list[float]]
    page_seconds: float  # the pages' phases, end to end
    trivial_seconds: float

    @property
    def p95(self) -> float:
        return _percentile(self.pages, 0.95)

    @property
    def trivial_p95(self) -> float:
        return _percentile(self.trivial, 0.95)

    def line(self) -> str:
        p95, trivial_p95 = self.p95, self.trivial_p95
        kinds = " ".join(f"{kind}_p95_ms={_percentile(v, 0.95) * 1000:.0f}" for kind, v in self.by_kind.items() if v)
        return (
            f"B3 counter ratio={p95 / trivial_p95:.2f} p50_ms={statistics.median(self.pages) * 1000:.0f} "
            f"p95_ms={p95 * 1000:.0f} trivial_p95_ms={trivial_p95 * 1000:.0f} "
            f"trivial_p50_ms={statistics.median(self.trivial) * 1000:.0f} {kinds} clients={self.clients} "
            f"requests={len(self.pages)}+{len(self.trivial)} pages_per_s={len(self.pages) / self.page_seconds:.0f} "
            f"trivial_per_s={len(self.trivial) / self.trivial_seconds:.0f} records={self.records}"
        )


def _measure(base_url: str, cookies: list[str], paths: list[str], *, records: int) -> CounterFigures:
    """The figures for len(cookies) clients, each a clerk of its own."""
    host, port = base_url.removeprefix("http://").split(":")
    base = (host, int(port))
    clients = len(cookies)
    per_client = PER_PHASE // clients
    # Warm-up: every client once through each kind of page and the trivial view.
    warm = [[*paths[n * 3 : n * 3 + 3], TRIVIAL] for n in range(clients)]
    _phase(base, cookies, warm)
    pages: list[float] = []
    trivial: list[float] = []
    by_kind: dict[str, list[float]] = {"search": [], "holder": [], "receipt": []}
    page_seconds = trivial_seconds = 0.0
    for round_number in range(ROUNDS):
        chunk = paths[round_number * PER_PHASE : (round_number + 1) * PER_PHASE]
        work = [chunk[n * per_client : (n + 1) * per_client] for n in range(clients)]
        timed, seconds = _phase(base, cookies, work)
        page_seconds += seconds
        for path, latency in timed:
            pages.append(latency)
            by_kind[_kind(path)].append(latency)
        timed, seconds = _phase(base, cookies, [[TRIVIAL] * per_client for _ in range(clients)])
        trivial_seconds += seconds
        trivial += [latency for _, latency in timed]
    return CounterFigures(clients, records, pages, trivial, by_kind, page_seconds, trivial_seconds)


def _kind(path: str) -> str:
    return "search" if path.startswith("/counter/?") else "receipt" if "/receipt/" in path else "holder"
