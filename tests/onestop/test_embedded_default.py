"""The embedded default (`make run`: SQLite, no server) serves every page a role opens, with the
demo data: a query PostgreSQL accepts and SQLite refuses (a LIMIT inside a UNION did, on every
signed-in page, through the J-LIS banner) fails here. Run as `make run` prepares it (migrate,
seed_demo) on a fresh SQLite database, in a process of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp import DEVICE_ID_SESSION_KEY
from onestop.models import User
from consents.models import Consent
from driver_records.models import DriverRecord
from jlis_gateway.models import OutboxMessage

tokyo = DriverRecord.objects.filter(prefecture="13", holding_status="licence_card_only").order_by("pk").first()
pages = {
    "clerk": [reverse("counter:home"), reverse("counter:home") + "?q=佐藤", reverse("counter:record", args=[tokyo.pk]),
              reverse("consents:worklist")],
    "supervisor": [reverse("counter:home"), reverse("counter:record", args=[tokyo.pk]), reverse("consents:worklist"),
                   reverse("gateway:monitor"), reverse("safeguards:home")],
    "auditor": ["/admin/", "/admin/onestop/auditevent/", "/admin/driver_records/driverrecord/"],
}
for consent in Consent.objects.filter(record__prefecture="13")[:3]:
    pages["clerk"].append(reverse("consents:receipt", args=[consent.pk]))
answers = []
for username, urls in pages.items():
    user = User.objects.get(username=username)
    client = Client()
    client.force_login(user, "onestop.auth_backend.StaffBackend")
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user).persistent_id
    session.save()
    for url in urls:
        answers.append(f"ANSWER {username} {url} {client.get(url).status_code}")
print("\\n".join(answers))
"""


def test_every_role_opens_its_pages_on_the_embedded_default(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ONESTOP_", "DATABASE_", "REDIS_"))}
    env |= {
        "ONESTOP_ENV": "development",
        "ONESTOP_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'onestop.sqlite3'}",
    }

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    manage("migrate", "--noinput", "-v", "0")
    manage("seed_demo")
    out = manage("shell", "-c", SCRIPT).splitlines()
    answers = [line.removeprefix("ANSWER ").rsplit(" ", 1) for line in out if line.startswith("ANSWER ")]
    assert len(answers) >= 12
    assert [page for page, status in answers if status != "200"] == []
