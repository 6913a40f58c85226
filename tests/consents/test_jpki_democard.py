"""The demo card: each demo holder signs with their own JPKI-TEST card, the same one each time."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper

from consents.jpki import JpkiError, JpkiErrorCode, verify_consent_signature
from consents.jpki.democard import demo_card_for, demo_crl_refresh
from tests.factories import DriverRecordFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def test_dir(jpki_test_dir: Path) -> Path:
    return jpki_test_dir


def test_demo_card_carries_the_records_data_and_its_signature_verifies(test_dir: Path) -> None:
    record = DriverRecordFactory(name="鈴木　一郎", address="大阪府大阪市北区梅田一丁目１番")
    card = demo_card_for(record)
    demo_crl_refresh()  # the demo CA's current CRL, as seed_demo and the demo's beat import it
    statement = "同意します".encode()

    result = verify_consent_signature(
        statement=statement,
        signature=card.sign(statement),
        certificate_der=card.certificate_der,
        signed_at=datetime.now(UTC),
    )

    assert (result.name, result.address, result.birth_date) == (record.name, record.address, record.birth_date)
    assert result.serial == card.serial


def test_demo_card_is_the_same_card_on_later_signings(test_dir: Path) -> None:
    record = DriverRecordFactory()
    first = demo_card_for(record)
    again = demo_card_for(record)

    assert again.serial == first.serial
    assert again.certificate_der == first.certificate_der
    key_file = test_dir / "cards" / f"record-{record.pk}.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert record.name.encode() not in b"".join(p.name.encode() for p in (test_dir / "cards").iterdir())


def test_demo_card_is_reissued_when_the_record_moves_or_on_request(test_dir: Path) -> None:
    record = DriverRecordFactory()
    first = demo_card_for(record)

    record.address = "東京都新宿区西新宿二丁目８番１号"
    record.save(update_fields=["address"])
    moved = demo_card_for(record)
    assert moved.serial != first.serial
    assert moved.holder.address == "東京都新宿区西新宿二丁目８番１号"

    reissued = demo_card_for(record, reissue=True)
    assert reissued.serial != moved.serial
    assert demo_card_for(record).serial == reissued.serial


def test_demo_card_refuses_to_exist_outside_the_test_trust(test_dir: Path, settings: SettingsWrapper) -> None:
    settings.JPKI_TRUST = "production"
    with pytest.raises(ImproperlyConfigured):
        demo_card_for(DriverRecordFactory())


def test_r03_demo_crl_refresh_reissues_the_demo_cas_crl_under_the_next_number_with_its_revocations(
    test_dir: Path,
) -> None:
    record = DriverRecordFactory()
    card = demo_card_for(record)
    first = demo_crl_refresh()
    second = demo_crl_refresh()
    assert (first.crl_number, second.crl_number) == (1, 2)
    assert second.next_update > timezone.now()  # current: consents are accepted (R3)
    statement = "同意します".encode()
    assert (
        verify_consent_signature(
            statement=statement,
            signature=card.sign(statement),
            certificate_der=card.certificate_der,
            signed_at=datetime.now(UTC),
        ).serial
        == card.serial
    )

    call_command("testcard", "revoke", "--serial", card.serial, stdout=StringIO())  # CRL #3, written, not imported
    fourth = demo_crl_refresh()
    assert (fourth.crl_number, fourth.entries) == (4, 1)  # the revocation stays on every later CRL
    with pytest.raises(JpkiError) as caught:
        verify_consent_signature(
            statement=statement,
            signature=card.sign(statement),
            certificate_der=card.certificate_der,
            signed_at=datetime.now(UTC),
        )
    assert caught.value.code == JpkiErrorCode.REVOKED


def test_r03_the_demo_beat_task_imports_a_current_crl(test_dir: Path, settings: SettingsWrapper) -> None:
    from consents.models import CrlImport
    from consents.tasks import demo_crl_refresh_task

    assert settings.CELERY_BEAT_SCHEDULE["jpki-demo-crl"]["task"] == "consents.demo_crl_refresh"
    imported = CrlImport.objects.get(pk=demo_crl_refresh_task())
    assert imported.next_update > timezone.now()
