"""R12 on the embedded default (`make run`: SQLite): its own trigger stops the feed for a holding
status written by a plain save() or a bulk update, as PostgreSQL's does (test_r12_every_path.py).
Run on a fresh SQLite database, migrated as `make run` migrates it, in a process of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
from datetime import date, timedelta
from django.utils import timezone
from consents.models import Consent, TermsVersion
from consents.feed import record_feed
from driver_records.models import DriverRecord

terms = TermsVersion.objects.create(version="t", effective_date=date(2025, 3, 24), text="t")
states = []
for n, ahead in enumerate((0, 10)):  # the second consent stamped by a clock ten minutes ahead
    record = DriverRecord.objects.create(
        kind="licence", number=f"30000000{n}990", name="山田　太郎", name_key="山田太郎", birth_date=date(1980, 5, 17),
        address="東京都千代田区霞が関二丁目１番１号", prefecture="13", holding_status="licence_card_only",
        cert_serial=f"S-{n}",
    )
    Consent.objects.create(
        record=record, reference=f"T-{n}", items=["address"], channel="counter", terms_version=terms,
        status="active", created_at=timezone.now() + timedelta(minutes=ahead), consent_date=date(2025, 12, 31),
        first_day=date(2026, 1, 1), last_valid_day=date(2035, 12, 31),
    )
    states.append(record_feed(DriverRecord.objects.get(pk=record.pk)).state.value)
    record.holding_status = "licence_both"
    record.save()  # a shell's plain save
    DriverRecord.objects.filter(pk=record.pk).update(holding_status="licence_card_only")  # back, in bulk
    states.append(record_feed(DriverRecord.objects.get(pk=record.pk)).state.value)
try:
    DriverRecord.objects.filter(pk=record.pk).update(feed_stopped_at=None)
    states.append("moved back")
except Exception as error:
    states.append(type(error).__name__ + ": " + str(error)[:3])
print("STATES", states)
"""


def test_r12_the_embedded_default_stops_the_feed_whatever_writes_the_status(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ONESTOP_", "DATABASE_", "REDIS_"))}
    env |= {"ONESTOP_ENV": "development", "DATABASE_URL": f"sqlite:///{tmp_path / 'onestop.sqlite3'}"}

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    manage("migrate", "--noinput", "-v", "0")
    out = manage("shell", "-c", SCRIPT)
    states = next(line for line in out.splitlines() if line.startswith("STATES"))
    assert states == (
        "STATES ['active', 'stopped_holding_status', 'active', 'stopped_holding_status', 'IntegrityError: R12']"
    )
