from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from consents.jpki.crl import crl_import
from consents.jpki.testcard import CardHolder, TestCard, TestHierarchy, make_crl
from consents.models import CrlImport
from driver_records.models import DriverRecord
from onestop.audit_signing import signing_key_create
from onestop.models import Office, User
from onestop.roles import Role

from .jlis_fixtures import (  # noqa: F401 (shared fixtures)
    celery_worker_process,
    jlis_simulator,
    jlis_simulator_server,
)
from .pcsc_fixtures import auth_card_key, pcscd, start_terminal, virtual_card  # noqa: F401 (shared fixtures)
from .services import missing_service, require_or_skip, skip_marker


def pytest_report_header(config: pytest.Config) -> list[str]:
    database = "PostgreSQL" if settings.USING_POSTGRES else "SQLite"
    broker = "Redis" if settings.REDIS_URL else "none (Redis-bound tests skip)"
    return [f"onestop: database={database} redis={broker} require_services={settings.REQUIRE_SERVICES}"]


def pytest_sessionstart(session: pytest.Session) -> None:
    if settings.REQUIRE_SERVICES:
        reasons = {r for m in ("postgres", "redis", "e2e", "promtool", "pcsc") if (r := missing_service(m))}
        if reasons:
            pytest.exit("ONESTOP_REQUIRE_SERVICES=1 but " + "; ".join(sorted(reasons)), returncode=1)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if settings.REQUIRE_SERVICES:
        return
    for item in items:
        if (marker := skip_marker(item)) is not None:
            item.add_marker(marker)


def pytest_runtest_setup(item: pytest.Item) -> None:
    require_or_skip(item)


@pytest.fixture(scope="session")
def audit_signing_key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One checkpoint signing key for the session (a real Ed25519 key, made like production's)."""
    path = tmp_path_factory.mktemp("audit") / "audit-signing-key.pem"
    signing_key_create(path)
    return path


@pytest.fixture(autouse=True)
def audit_chain_queue_window() -> None:
    """Each test starts with no chainer run queued by an earlier test's commits (their messages
    may be gone with that test's worker)."""
    from onestop.audit_chain import QUEUE_WINDOW

    QUEUE_WINDOW.reset()


@pytest.fixture(autouse=True)
def audit_checkpoint_file(settings: Any, tmp_path: Path, audit_signing_key_file: Path) -> Path:
    """Each test its own checkpoint file, empty: the database is emptied between tests, and
    another test's checkpoints would rightly accuse the next chain of a cut tail."""
    settings.AUDIT_SIGNING_KEY = ""
    settings.AUDIT_SIGNING_KEY_FILE = str(audit_signing_key_file)
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "audit-checkpoints.jsonl"
    return settings.AUDIT_CHECKPOINT_FILE


class StaffClient(Client):
    """A test client whose force_login also passes the second factor when the user has one,
    as the user would right after logging in. Tests of the second factor itself log in by
    posting the forms."""

    def force_login(self, user: User, backend: str | None = None) -> None:
        super().force_login(user, backend or "onestop.auth_backend.StaffBackend")
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is not None:
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()


@pytest.fixture
def client() -> Client:
    return StaffClient()


def _staff(username: str, role: Role, office: Office | None) -> User:
    user = User.objects.create_user(username=username, password=staff_password(username))
    user.office = office
    user.is_staff = role == Role.AUDITOR
    user.save()
    user.groups.add(Group.objects.get(name=role.value))
    TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)  # every role gives one
    return user


def staff_password(username: str) -> str:
    return "pw-" + username + "-0123456789"


@pytest.fixture
def tokyo_office(db: None) -> Office:
    return Office.objects.create(code="13-LC", name="府中運転免許試験場", kind="licence_centre", prefecture="13")


@pytest.fixture
def osaka_office(db: None) -> Office:
    return Office.objects.create(code="27-LC", name="門真運転免許試験場", kind="licence_centre", prefecture="27")


@pytest.fixture
def clerk(tokyo_office: Office) -> User:
    """Alice works the counter in Tokyo."""
    return _staff("alice", Role.CLERK, tokyo_office)


@pytest.fixture
def supervisor(tokyo_office: Office) -> User:
    """Bob supervises the Tokyo counter."""
    return _staff("bob", Role.SUPERVISOR, tokyo_office)


@pytest.fixture
def second_supervisor(tokyo_office: Office) -> User:
    return _staff("dave", Role.SUPERVISOR, tokyo_office)


@pytest.fixture
def auditor(db: None) -> User:
    """Carol reads everything and changes nothing."""
    return _staff("carol", Role.AUDITOR, None)


@pytest.fixture
def personas(clerk: User, supervisor: User, auditor: User) -> dict[str, User]:
    return {"clerk": clerk, "supervisor": supervisor, "auditor": auditor}


# --- JPKI (consents/jpki) -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def jpki_hierarchy() -> TestHierarchy:
    """The JPKI-TEST hierarchy that settings.JPKI_TRUST="test" trusts (kept in JPKI_TEST_DIR)."""
    return TestHierarchy.load_or_create(settings.JPKI_TEST_DIR)


@pytest.fixture(scope="session")
def jpki_card_key() -> rsa.RSAPrivateKey:
    """One RSA-2048 card key for the session: cards differ by serial, the suite stays fast."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def holder_of_record(record: DriverRecord, **overrides: Any) -> CardHolder:
    """What a record's holder's signing certificate carries."""
    values = {"name": record.name, "address": record.address, "birth_date": record.birth_date, **overrides}
    return CardHolder(**values)


@pytest.fixture
def jpki_crl(db: None, jpki_hierarchy: TestHierarchy) -> CrlImport:
    """The test CA's current CRL (empty, valid for a day), imported as J-LIS's daily one is: without
    it every consent is refused (R3 fails closed). Number 0, so a test's own CRLs (#1 on) are newer."""
    return crl_import(der=make_crl(jpki_hierarchy.signing_ca, [], number=0), actor_label="tests")


@pytest.fixture
def issue_card_for(
    jpki_hierarchy: TestHierarchy, jpki_card_key: rsa.RSAPrivateKey, jpki_crl: CrlImport
) -> Callable[..., TestCard]:
    """issue_card_for(record, **options) -> a test card for the record's holder, trusted in tests
    (its CA's current CRL imported).

    Options go to `issue_certificate` (issued_at, not_after, key, key_bits, policy, serial, ...).
    The session's card key is used unless `key=` or `key_bits=` asks for another.
    """

    def issue(record: DriverRecord, **options: Any) -> TestCard:
        if "key_bits" not in options:
            options.setdefault("key", jpki_card_key)
        return jpki_hierarchy.issue_card(holder_of_record(record), **options)

    return issue
