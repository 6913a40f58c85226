"""The test card and CRL import from the command line, and the CRL import task on a real worker."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from io import StringIO
from pathlib import Path

import pytest
from cryptography import x509
from django.core.management import CommandError, call_command
from pytest_django.fixtures import Settings

from consents.jpki import JpkiError, JpkiErrorCode, verify_consent_signature
from consents.jpki.testcard import CardHolder, TestCard, TestHierarchy
from consents.models import CrlImport, RevokedCertificate
from consents.tasks import crl_import_file

HOLDER_ARGS = [
    "--name",
    "伊藤　三郎",
    "--address",
    "愛知県名古屋市中区三の丸三丁目１番２号",
    "--birth-date",
    "1970-03-31",
]


def run(*args: str) -> str:
    out = StringIO()
    call_command("testcard", *args, stdout=out)
    return out.getvalue()


def verify(card: TestCard, statement: bytes, signature: bytes, at: datetime | None = None):
    return verify_consent_signature(
        statement=statement,
        signature=signature,
        certificate_der=card.certificate_der,
        signed_at=at or datetime.now(UTC),
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("jpki_crl")
def test_r03_testcard_issue_sign_revoke_then_import_crl_refuses_the_card(jpki_test_dir: Path, tmp_path: Path) -> None:
    out = run("issue", *HOLDER_ARGS, "--sex", "2", "--out", str(tmp_path / "ito"))
    card = TestCard.load(tmp_path / "ito")
    assert f"serial {card.serial}" in out
    assert card.holder.birth_date == date(1970, 3, 31) and card.holder.sex == "2"

    statement = tmp_path / "statement.txt"
    statement.write_text("同意します record=42")
    run("sign", "--card", str(tmp_path / "ito"), "--statement", str(statement))
    signature = (tmp_path / "statement.txt.sig").read_bytes()
    assert verify(card, statement.read_bytes(), signature).name == "伊藤　三郎"

    run("revoke", "--serial", "777")
    out = run(
        "revoke", "--card", str(tmp_path / "ito"), "--reason", "affiliationChanged", "--out", str(tmp_path / "c.der")
    )
    assert "CRL #2" in out
    crl = x509.load_der_x509_crl((tmp_path / "c.der").read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(int(card.serial)) is not None
    assert (jpki_test_dir / "signing_ca.crl").read_bytes() == (tmp_path / "c.der").read_bytes()

    imported = StringIO()
    call_command("import_crl", str(tmp_path / "c.der"), stdout=imported)
    assert "imported CRL #2" in imported.getvalue() and "2 entries" in imported.getvalue()
    with pytest.raises(JpkiError) as caught:
        verify(card, statement.read_bytes(), signature)
    assert caught.value.code == JpkiErrorCode.REVOKED

    with pytest.raises(CommandError, match="not newer than #2"):
        call_command("import_crl", str(tmp_path / "c.der"), stdout=StringIO())


@pytest.mark.django_db
@pytest.mark.usefixtures("jpki_crl")
def test_r03_testcard_expired_issues_a_certificate_that_ended_at_23_59_59_jst(
    jpki_test_dir: Path, tmp_path: Path
) -> None:
    run("expired", *HOLDER_ARGS, "--expired-on", "2026-10-31", "--out", str(tmp_path / "old"))
    card = TestCard.load(tmp_path / "old")
    assert card.certificate.not_valid_after_utc == datetime(2026, 10, 31, 14, 59, 59, tzinfo=UTC)

    with pytest.raises(JpkiError) as caught:
        verify(card, b"x", card.sign(b"x"))
    assert caught.value.code == JpkiErrorCode.NOT_VALID_AT_SIGNING_TIME
    assert verify(card, b"x", card.sign(b"x"), at=datetime(2026, 10, 31, 14, 59, 59, tzinfo=UTC))


def test_r03_testcard_refuses_to_run_outside_the_test_trust(settings: Settings, tmp_path: Path) -> None:
    settings.JPKI_TRUST = "production"
    with pytest.raises(CommandError, match="only when ONESTOP_JPKI_TRUST is 'test'"):
        run("issue", *HOLDER_ARGS, "--out", str(tmp_path / "x"))
    assert not list(tmp_path.iterdir())


def test_import_crl_names_an_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_crl", str(tmp_path / "missing.der"))


@pytest.mark.django_db(transaction=True)
def test_r03_import_crl_runs_its_own_durable_transaction(jpki_hierarchy: TestHierarchy, tmp_path: Path) -> None:
    crl = tmp_path / "one.der"
    crl.write_bytes(TestHierarchy(jpki_hierarchy.signing_ca, jpki_hierarchy.auth_ca).revoke(31337))
    call_command("import_crl", str(crl), stdout=StringIO())
    assert RevokedCertificate.objects.filter(serial="31337").exists()


@pytest.mark.django_db
def test_r03_crl_import_task_imports_the_file_it_is_given(jpki_hierarchy: TestHierarchy, tmp_path: Path) -> None:
    crl = tmp_path / "task.der"
    crl.write_bytes(TestHierarchy(jpki_hierarchy.signing_ca, jpki_hierarchy.auth_ca).revoke(4711))
    crl_import_id = crl_import_file(str(crl))
    assert CrlImport.objects.get(pk=crl_import_id).entries == 1


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_r03_crl_import_task_runs_on_a_real_worker(
    celery_worker_process: object, jpki_hierarchy: TestHierarchy, tmp_path: Path
) -> None:
    crl = tmp_path / "worker.der"
    holder = CardHolder(name="x　y", address="東京都", birth_date=date(2000, 1, 1))
    card = jpki_hierarchy.issue_card(holder)
    crl.write_bytes(TestHierarchy(jpki_hierarchy.signing_ca, jpki_hierarchy.auth_ca).revoke(card.serial))

    crl_import_file.delay(str(crl))

    deadline = time.monotonic() + 60  # waiting for the worker, not measuring it
    while not RevokedCertificate.objects.filter(serial=card.serial).exists():
        assert time.monotonic() < deadline, "the worker did not import the CRL within 60 s"
        time.sleep(0.2)
    with pytest.raises(JpkiError) as caught:
        verify(card, b"s", card.sign(b"s"))
    assert caught.value.code == JpkiErrorCode.REVOKED
