"""Backup and restore (docs/operations.md): a dump taken with PostgreSQL's pg_dump while the
system works, restored with pg_restore into a fresh database, passes audit_verify and holds what
the database held at the dump; started again, it polls J-LIS from the restored cursor and ends
where the original ended: no event lost, none applied twice, no submission acted on twice.

The world, played with the J-LIS simulator over HTTP: holder A has an active consent; A moves
and the event is stored but not yet applied when the dump is taken; holder B's consent is
registered, its submission not yet sent. After the dump the original applies A's move, sends
B's submission and applies A's rename. The restored copy must do the same from the dump."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from typing import Any
from urllib.parse import urlparse

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection

from consents.models import Consent, TermsVersion
from consents.services import consent_register, statement_create
from driver_records.models import DriverRecord, RecordChange
from jlis_gateway.models import JlisEvent, OutboxMessage
from jlis_gateway.services.poll import events_poll
from jlis_gateway.services.relay import outbox_send
from tests.driver_records.test_real_event_path import poll_and_apply, register_at_counter
from tests.factories import DriverRecordFactory
from tests.jlis_fixtures import ROOT, celery_env

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
PROJECT_APPS = ("onestop", "driver_records", "consents", "jlis_gateway", "safeguards", "operations")
REPLAY = """
from applier.batch import events_apply_pending
from jlis_gateway.models import OutboxMessage, OutboxStatus
from jlis_gateway.services.poll import events_poll
from jlis_gateway.services.relay import outbox_send
for row in OutboxMessage.objects.filter(status=OutboxStatus.PENDING):
    outbox_send(message_id=row.pk)
while events_poll().has_more:
    pass
events_apply_pending()
"""


def project_counts() -> dict[str, int]:
    return {
        model._meta.label: model._base_manager.count()
        for app in PROJECT_APPS
        for model in apps.get_app_config(app).get_models()
    }


def final_state(record_ids: list[int]) -> dict[str, Any]:
    """What the replay must reproduce: the records, every event's outcome, every change made."""
    fields = ("name", "address", "prefecture", "birth_date", "cert_serial", "cert_not_after", "jlis_seq")
    return {
        "records": sorted(DriverRecord.objects.filter(pk__in=record_ids).values_list("number", *fields)),
        "events": sorted(JlisEvent.objects.values_list("event_id", "status", "reason")),
        "changes": Counter(
            RecordChange.objects.exclude(jlis_event_id="").values_list(
                "jlis_event_id", "field", "old_value", "new_value"
            )
        ),
        "consents": sorted(Consent.objects.values_list("reference", "status", "jlis_consent_id", "consent_date")),
    }


def pg(*args: str) -> list[str]:
    db = connection.settings_dict
    return [*args, "-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432), "-U", db["USER"] or "root"]


def manage(database: str, *args: str) -> subprocess.CompletedProcess[str]:
    url = urlparse(settings.DATABASE_URL)._replace(path=f"/{database}").geturl()
    env = celery_env(env={"DATABASE_URL": url}, application_name="onestop-test-restored")
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


@pytest.fixture
def restored_name():
    name = f"{connection.settings_dict['NAME']}_restored"
    yield name
    connection.close()
    subprocess.run(pg("dropdb", "--if-exists", "--force", name), check=False, capture_output=True)


def test_a_restored_dump_verifies_and_replays_jlis_to_the_same_end(
    restored_name, tmp_path, clerk, issue_card_for, jlis_simulator
):
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.fail("pg_dump and pg_restore (PostgreSQL's client tools) are needed")
    TermsVersion.objects.create(version="2025.1", effective_date="2025-03-24", text="利用規約")
    a = DriverRecordFactory(address="東京都千代田区霞が関二丁目１番１号", name="山田　太郎")
    consent = register_at_counter(a, clerk, issue_card_for(a), ("address", "name"))
    jlis_simulator.reflect(consent_id=consent.jlis_consent_id)
    poll_and_apply()
    jlis_simulator.move(holder=1, address="東京都府中市多磨町３丁目１番地")
    while not JlisEvent.objects.filter(status="pending").exists():  # stored, not applied
        events_poll()
    b = DriverRecordFactory(address="東京都新宿区西新宿二丁目８番１号", name="佐藤　花子")
    card_b = issue_card_for(b)
    statement = statement_create(record_id=b.pk, items=["address"], actor=clerk)
    consent_register(
        statement_id=statement.pk,
        signature=card_b.sign(statement.text.encode("utf-8")),
        certificate_der=card_b.certificate_der,
        actor=clerk,
    )  # its submission waits in the outbox

    dump = tmp_path / "onestop.dump"
    connection.close()
    subprocess.run(pg("pg_dump", "-Fc", "-f", str(dump), "-d", connection.settings_dict["NAME"]), check=True)
    at_dump = project_counts()

    # The original goes on: applies the move, sends B's submission, J-LIS renames A.
    for row in OutboxMessage.objects.filter(status="pending"):
        outbox_send(message_id=row.pk)
    poll_and_apply()
    jlis_simulator.rename(holder=1, name="山田　一郎")
    poll_and_apply()
    original = final_state([a.pk, b.pk])
    assert original["records"][0][1:3] == ("山田　一郎", "東京都府中市多磨町３丁目１番地")

    subprocess.run(pg("createdb", restored_name), check=True)
    subprocess.run(pg("pg_restore", "--exit-on-error", "-d", restored_name, str(dump)), check=True)
    verified = manage(restored_name, "audit_verify")
    assert verified.returncode == 0, verified.stderr
    restored_connection = {**connection.settings_dict, "NAME": restored_name}
    with _using(restored_connection):
        assert project_counts() == at_dump

    replay = manage(restored_name, "shell", "-c", REPLAY)
    assert replay.returncode == 0, replay.stderr[-3000:]
    with _using(restored_connection):
        assert final_state([a.pk, b.pk]) == original
    assert manage(restored_name, "audit_verify").returncode == 0
    # J-LIS received B's submission twice under one key and acted on it once.
    submissions = [r for r in jlis_simulator.requests() if r["method"] == "POST" and r["path"] == "/v1/consents"]
    assert [(r["received"], r["replays"]) for r in submissions] == [(1, 0), (2, 1)]


class _using:
    """Point the default connection at another database for a block (the restored copy)."""

    def __init__(self, settings_dict: dict[str, Any]) -> None:
        self.settings_dict = settings_dict

    def __enter__(self) -> None:
        connection.close()
        self.saved = connection.settings_dict
        connection.settings_dict = self.settings_dict

    def __exit__(self, *exc: object) -> None:
        connection.close()
        connection.settings_dict = self.saved
