"""The audit chain's signed checkpoints: keys, the beat task, the auditor's page, demo mode."""

from __future__ import annotations

import base64
import logging
import shutil
import stat
import subprocess

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.urls import reverse

from onestop.audit import AuditEntry, audit_log_many
from onestop.audit_checkpoints import audit_checkpoint_write
from onestop.audit_signing import checkpoints_read, public_key_text, signing_key_load, trusted_public_keys
from onestop.demo import seed_demo
from onestop.models import AuditEvent
from onestop.tasks import audit_checkpoint_task
from tests.jlis_fixtures import wait_until, worker_start


def chain_append(count: int) -> None:
    with transaction.atomic():
        audit_log_many([AuditEntry(action="record.update", subject_type="t", subject_id=str(i)) for i in range(count)])


@pytest.mark.django_db
def test_without_a_key_development_skips_the_checkpoint_and_says_so(settings, tmp_path, caplog):
    settings.AUDIT_SIGNING_KEY_FILE = str(tmp_path / "absent.pem")
    settings.AUDIT_SIGNING_KEY_FILE_REQUIRED = False
    with caplog.at_level(logging.WARNING):
        assert audit_checkpoint_write() is None
    assert "audit checkpoint skipped: no signing key" in caplog.text
    assert not settings.AUDIT_CHECKPOINT_FILE.exists()


@pytest.mark.django_db
def test_without_a_key_production_refuses_to_checkpoint(settings, tmp_path):
    settings.PRODUCTION = True
    settings.AUDIT_SIGNING_KEY_FILE = ""
    with pytest.raises(ImproperlyConfigured, match="no audit signing key"):
        audit_checkpoint_write()


@pytest.mark.django_db
def test_a_named_key_file_that_is_missing_is_an_error(settings, tmp_path):
    settings.AUDIT_SIGNING_KEY_FILE = str(tmp_path / "absent.pem")
    settings.AUDIT_SIGNING_KEY_FILE_REQUIRED = True
    with pytest.raises(FileNotFoundError):
        audit_checkpoint_write()


@pytest.mark.django_db
def test_a_signing_key_that_is_not_the_configured_public_key_is_refused(settings):
    settings.AUDIT_PUBLIC_KEYS = ["11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="]  # another key's
    with pytest.raises(ImproperlyConfigured, match="not in ONESTOP_AUDIT_PUBLIC_KEY"):
        audit_checkpoint_write()


@pytest.mark.django_db
def test_a_key_made_with_openssl_is_used_as_documented(settings, tmp_path):
    """docs/security.md's openssl commands make a key onestop loads, and the public key they print
    is the one onestop writes in its checkpoints."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: the documented commands cannot be run")
    key_file = tmp_path / "audit-signing-key.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(key_file)], check=True)
    der = subprocess.run(
        ["openssl", "pkey", "-in", str(key_file), "-pubout", "-outform", "DER"], check=True, capture_output=True
    ).stdout
    settings.AUDIT_SIGNING_KEY_FILE = str(key_file)
    settings.AUDIT_PUBLIC_KEYS = [base64.b64encode(der[-32:]).decode()]
    chain_append(1)
    checkpoint = audit_checkpoint_write()
    assert checkpoint is not None and checkpoint.key == settings.AUDIT_PUBLIC_KEYS[0]
    # The key also works from the environment, as PEM text.
    settings.AUDIT_SIGNING_KEY, settings.AUDIT_SIGNING_KEY_FILE = key_file.read_text(), ""
    assert public_key_text(signing_key_load()) == settings.AUDIT_PUBLIC_KEYS[0]


def test_audit_keygen_makes_a_private_key_only_its_owner_reads_and_never_overwrites(tmp_path, capsys, settings):
    path = tmp_path / "keys" / "audit-signing-key.pem"
    call_command("audit_keygen", str(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    printed = capsys.readouterr().out.strip()
    settings.AUDIT_SIGNING_KEY, settings.AUDIT_SIGNING_KEY_FILE = "", str(path)
    assert printed == f"ONESTOP_AUDIT_PUBLIC_KEY={public_key_text(signing_key_load())}"
    before = path.read_bytes()
    with pytest.raises(CommandError, match="never overwritten"):
        call_command("audit_keygen", str(path))
    assert path.read_bytes() == before


@pytest.mark.django_db
def test_beat_signs_the_head_periodically_through_a_thin_task(settings, audit_checkpoint_file):
    schedule = [
        entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"] == "onestop.audit_checkpoint"
    ]
    assert schedule == [{"task": "onestop.audit_checkpoint", "schedule": float(settings.AUDIT_CHECKPOINT_SECONDS)}]
    chain_append(4)
    assert audit_checkpoint_task.apply().get() == 4
    assert '"seq":4' in audit_checkpoint_file.read_text()


@pytest.mark.django_db
def test_the_auditor_reads_the_checkpoints_and_sees_a_rewritten_row(client, auditor, clerk):
    chain_append(3)
    audit_checkpoint_write()
    chain_append(2)
    audit_checkpoint_write()
    with connection.cursor() as cursor:  # a rewrite behind the application's back (triggers off)
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE onestop_auditlink SET row_hash = %s WHERE seq = 3", ["d" * 64])
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")
    client.force_login(auditor)
    url = reverse("admin:onestop_auditevent_checkpoints")
    page = client.get(url)
    assert page.status_code == 200
    rows = page.content.decode()  # in Japanese, the site's first language
    assert rows.count("<td>有効</td>") == 2  # both signatures verify
    assert "不一致:行が書き換えられています" in rows  # row 3's checkpoint
    assert "<td>一致</td>" in rows  # row 5's
    assert client.post(url).status_code == 405  # nothing to change here
    assert url in client.get(reverse("admin:onestop_auditevent_changelist")).content.decode()
    client.force_login(clerk)
    assert client.get(url).status_code == 302  # to the admin's login


@pytest.mark.django_db
def test_the_auditor_is_told_when_no_checkpoint_is_being_signed(client, auditor):
    client.force_login(auditor)
    page = client.get(reverse("admin:onestop_auditevent_checkpoints")).content.decode()
    assert "チェックポイントがまだ署名されていません" in page


@pytest.mark.django_db(transaction=True)
def test_demo_mode_makes_its_signing_key_and_starts_a_new_database_with_new_checkpoints(settings, tmp_path):
    settings.AUDIT_SIGNING_KEY_FILE = str(tmp_path / "var" / "audit-signing-key.pem")
    settings.AUDIT_CHECKPOINT_FILE.write_text('{"type":"onestop.audit.checkpoint","seq":7}\n')  # an old database's
    seed_demo()
    assert signing_key_load() is not None
    assert not settings.AUDIT_CHECKPOINT_FILE.exists()
    assert list(settings.AUDIT_CHECKPOINT_FILE.parent.glob("audit-checkpoints.jsonl.before-*"))
    chain_append(1)
    audit_checkpoint_write()
    seed_demo()  # a database with a chain keeps its checkpoints
    assert settings.AUDIT_CHECKPOINT_FILE.exists()


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_signs_the_checkpoint_that_beat_queues(tmp_path, audit_signing_key_file, settings):
    from onestop.celery import app

    with app.connection_for_write() as broker:
        broker.default_channel.queue_purge(settings.CELERY_TASK_DEFAULT_QUEUE)  # earlier tests' tasks
    chain_append(3)
    checkpoints = tmp_path / "worker-checkpoints.jsonl"
    worker = worker_start(
        log=tmp_path / "worker.log",
        env={
            "ONESTOP_AUDIT_SIGNING_KEY_FILE": str(audit_signing_key_file),
            "ONESTOP_AUDIT_CHECKPOINT_FILE": str(checkpoints),
        },
    )
    try:
        app.send_task("onestop.audit_checkpoint")  # what beat sends, by name
        wait_until(lambda: checkpoints.exists() and checkpoints.read_text().strip(), 60, f"a checkpoint ({worker.log})")
    finally:
        worker.stop()
    read = checkpoints_read(checkpoints, trusted_public_keys())
    assert read.problems == [] and [(c.seq, c.hash) for c in read.checkpoints] == [(3, row_hash_at(3))]


def row_hash_at(seq: int) -> str:
    return AuditEvent.objects.get(seq=seq).row_hash
