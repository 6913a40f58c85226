"""Fixtures for the consent tests: JPKI test material, a real worker, terms in force, a holder
the Tokyo counter may serve, and the steps of the counter flow with real test cards."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pytest_django.fixtures import Settings

from consents.jpki.testcard import TestCard, TestHierarchy
from consents.models import Consent, ConsentStatement, CrlImport, TermsVersion
from consents.services import consent_register, statement_create
from driver_records.models import DriverRecord
from onestop.models import Office, User
from onestop.roles import Role
from tests.conftest import _staff
from tests.factories import DriverRecordFactory


@pytest.fixture
def jpki_test_dir(tmp_path: Path, settings: Settings, jpki_hierarchy: TestHierarchy) -> Path:
    """A fresh JPKI_TEST_DIR holding the session's hierarchy: cards and CRLs written by a test
    stay in it, and no CA key is generated per test."""
    for name in ("signing_ca.pem", "signing_ca.key", "auth_ca.pem", "auth_ca.key"):
        shutil.copy(Path(settings.JPKI_TEST_DIR) / name, tmp_path / name)
    settings.JPKI_TEST_DIR = tmp_path
    return tmp_path


@pytest.fixture(scope="session")
def foreign_hierarchy() -> TestHierarchy:
    """A hierarchy with JPKI's names and other keys: not trusted."""
    return TestHierarchy.generate()


# A real Celery worker: `celery_worker_process` from tests/jlis_fixtures.py (via tests/conftest.py).


@pytest.fixture
def terms(db: None) -> TermsVersion:
    return TermsVersion.objects.create(version="2025.1", effective_date=date(2025, 3, 24), text="利用規約（試験用）")


@pytest.fixture
def record(db: None) -> DriverRecord:
    """A Tokyo resident whose licence is on the My Number card only (マイナ免許証のみ)."""
    return DriverRecordFactory(prefecture="13", holding_status="licence_card_only")


@pytest.fixture
def make_statement(terms: TermsVersion, clerk: User) -> Callable[..., ConsentStatement]:
    def make(record: DriverRecord, items: tuple[str, ...] = ("address", "name", "birth_date"), **kw: Any):
        return statement_create(record_id=record.pk, items=list(items), actor=kw.get("actor", clerk))

    return make


def signed(statement: ConsentStatement, card: TestCard) -> dict[str, bytes]:
    """What the terminal sends: the card's signature over the statement's exact bytes, and its certificate."""
    return {"signature": card.sign(statement.text.encode("utf-8")), "certificate_der": card.certificate_der}


@pytest.fixture
def register(
    make_statement: Callable[..., ConsentStatement], issue_card_for: Callable[..., TestCard], clerk: User
) -> Callable[..., Consent]:
    """register(record, items=...) -> a pending consent, signed with a fresh card for the record."""

    def run(record: DriverRecord, items: tuple[str, ...] = ("address", "name", "birth_date"), **card: Any):
        statement = make_statement(record, items)
        return consent_register(
            statement_id=statement.pk, actor=clerk, **signed(statement, issue_card_for(record, **card))
        )

    return run


@pytest.fixture
def osaka_supervisor(osaka_office: Office) -> User:
    """Erin supervises the Osaka counter."""
    return _staff("erin", Role.SUPERVISOR, osaka_office)


@pytest.fixture
def demo_cards(jpki_test_dir: Path, settings: Settings, jpki_crl: CrlImport) -> Path:
    """Demo mode, with demo cards issued by the session's (trusted) test hierarchy (its CRL imported)."""
    settings.DEMO_MODE = True
    return jpki_test_dir
