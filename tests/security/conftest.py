"""A small world with one real object of every kind a URL can name, and a client per principal."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from consents.jpki.testcard import TestCard
from consents.models import (
    Consent,
    ConsentStatement,
    CrlImport,
    MynaportalLink,
    RevokedCertificate,
    TermsVersion,
)
from consents.services import consent_register, consent_revoke, statement_create
from consents.services.terminals import terminal_create
from driver_records.models import DriverRecord, RecordChange
from driver_records.services import record_update
from jlis_gateway.models import EventKind, EventStatus, JlisEvent, OutboxMessage, PollState, QuarantinedEvent
from onestop.models import AuditEvent, Office, User
from onestop.permission_matrix import Place, Principal
from onestop.prefectures import PREFECTURES
from onestop.roles import Role
from safeguards.models import DisclosureRequest, SuspensionRequest
from safeguards.services import (
    disclosure_fee_record,
    disclosure_identity_check,
    disclosure_register,
    suspension_propose,
)
from tests.conftest import StaffClient, _staff, staff_password
from tests.factories import DriverRecordFactory


@pytest.fixture
def jpki_test_dir(tmp_path: Path, settings: Any, jpki_hierarchy: Any) -> Path:
    """The session's test hierarchy in a fresh folder: demo cards written here stay here."""
    for name in ("signing_ca.pem", "signing_ca.key", "auth_ca.pem", "auth_ca.key"):
        shutil.copy(Path(settings.JPKI_TEST_DIR) / name, tmp_path / name)
    settings.JPKI_TEST_DIR = tmp_path
    settings.DEMO_MODE = True
    return tmp_path


@dataclass(frozen=True)
class Holder:
    """One holder's objects, in one prefecture."""

    record: DriverRecord
    statement: ConsentStatement  # open, at an office of the holder's prefecture
    consent: Consent  # pending, registered there


@dataclass
class World:
    record: DriverRecord
    statement: ConsentStatement  # open, at the Tokyo office
    consent: Consent  # pending, registered at the Tokyo office
    card: TestCard  # the holder's card that signed the consent
    terminal_token: str  # a Tokyo counter terminal's
    users: dict[Principal, User]
    url_args: dict[Any, Any]  # values per URL parameter name, and per model for admin object ids
    elsewhere: Holder  # an Osaka holder: another prefecture than the staff's and the terminal's
    elsewhere_url_args: dict[Any, Any]  # url_args naming the Osaka holder's objects

    def args_for(self, place: Place) -> dict[Any, Any]:
        return self.url_args if place == Place.OWN else self.elsewhere_url_args

    def holder_for(self, place: Place) -> Holder:
        return Holder(self.record, self.statement, self.consent) if place == Place.OWN else self.elsewhere

    def client(self, principal: Principal, **options: Any) -> Client:
        """A fresh client acting as the principal (staff pass the second factor)."""
        if principal == Principal.ANONYMOUS:
            return Client(**options)
        if principal == Principal.TERMINAL:
            return Client(HTTP_AUTHORIZATION=f"Bearer {self.terminal_token}", **options)
        client = StaffClient(**options)
        client.force_login(self.users[principal])
        return client


def _axes_rows(clerk: User) -> None:
    """Login history as axes keeps it: a success (AccessLog), then a failure (AccessAttempt)."""
    Client().post("/accounts/login/", {"username": clerk.username, "password": staff_password(clerk.username)})
    Client().post("/accounts/login/", {"username": "nobody-here", "password": "wrong-password"})


@dataclass(frozen=True)
class _Made:
    """What `_holder_objects` made for one prefecture."""

    holder: Holder
    card: TestCard
    link: MynaportalLink
    other: DriverRecord  # a two-card holder, proposed for suspension
    suspension: SuspensionRequest
    disclosure: DisclosureRequest
    revoked: Consent  # an earlier consent of the holder, revoked at the counter (its slip)


def _holder_objects(
    clerk: User, supervisor: User, issue_card_for: Callable[..., TestCard], *, requester: str, receipt: str
) -> _Made:
    """A holder of the staff's prefecture with a pending consent and an open statement, Mynaportal
    linkage, a disclosure request whose fee is paid, and another holder proposed for suspension."""
    address = f"{PREFECTURES[clerk.office.prefecture]}中央区一丁目１番"  # R4: the holder lives there
    record = DriverRecordFactory(address=address, holding_status="licence_card_only")
    items = ["address", "name", "birth_date"]
    signed = statement_create(record_id=record.pk, items=items, actor=clerk)
    card = issue_card_for(record)
    consent = consent_register(
        statement_id=signed.pk,
        signature=card.sign(signed.text.encode()),
        certificate_der=card.certificate_der,
        actor=clerk,
    )
    revoked_statement = statement_create(record_id=record.pk, items=items, actor=clerk)
    revoked = consent_register(
        statement_id=revoked_statement.pk,
        signature=card.sign(revoked_statement.text.encode()),
        certificate_der=card.certificate_der,
        actor=clerk,
    )
    consent_revoke(consent_id=revoked.pk, actor=supervisor, reason="本人の申出により取消し")
    statement = statement_create(record_id=record.pk, items=items, actor=clerk)
    # Linkage is recorded once the record has a linked certificate, which J-LIS's reflection brings.
    link = MynaportalLink.objects.create(
        record=record, linked_at=timezone.now(), linked_by=clerk, cert_serial=card.serial
    )
    other = DriverRecordFactory(address=address, holding_status="licence_card_only")
    record_update(
        record_id=other.pk, expected_version=other.version, changes={"holding_status": "licence_both"}, actor=clerk
    )
    suspension = suspension_propose(
        record_id=other.pk, actor=supervisor, reason_code="misuse", grounds="suspected", note="目的外の利用の疑い"
    )
    disclosure = disclosure_register(
        record_id=record.pk, actor=supervisor, requester_kind="holder", requester_name=requester,
        received_on=date.today(),
    )  # fmt: skip
    disclosure_identity_check(request_id=disclosure.pk, actor=supervisor, document="passport")
    disclosure_fee_record(
        request_id=disclosure.pk, actor=supervisor, amount=300, receipt_number=receipt, paid_on=date.today()
    )  # the report answers once the fee is paid
    return _Made(Holder(record, statement, consent), card, link, other, suspension, disclosure, revoked)


def _holder_args(made: _Made) -> dict[Any, Any]:
    return {
        "record_id": made.holder.record.pk,
        "statement_id": made.holder.statement.pk,
        "consent_id": made.holder.consent.pk,
        "suspension_id": made.suspension.pk,
        "disclosure_id": made.disclosure.pk,
        # The slip answers for a revoked consent only.
        ("consents:revocation-slip", "consent_id"): made.revoked.pk,
        "message_id": made.holder.consent.outbox.get().pk,  # its submission to J-LIS
    }


@pytest.fixture
def world(
    clerk: User, supervisor: User, auditor: User, jpki_test_dir: Path, issue_card_for: Callable[..., TestCard]
) -> World:
    TermsVersion.objects.create(version="2025.1", effective_date=date(2025, 3, 24), text="利用規約（試験用）")
    tokyo = _holder_objects(clerk, supervisor, issue_card_for, requester="山田　太郎", receipt="R-1")
    record, card = tokyo.holder.record, tokyo.card
    _terminal, token = terminal_create(name="窓口端末1", office=clerk.office, actor=None)
    now = timezone.now()
    JlisEvent.objects.create(
        event_id="ev-world-1", kind=EventKind.CONSENT_REFLECTED, holder_seq=1, serial=card.serial,
        jlis_consent_id="JC-world", occurred_at=now, received_at=now, status=EventStatus.SKIPPED,
        reason="unknown_consent", processed_at=now, payload={"consent_id": "JC-world", "consent_date": "2026-01-05"},
    )  # fmt: skip
    QuarantinedEvent.objects.create(
        event_id="ev-bad", reason="holder_seq is not a positive integer", paths=["holder_seq"], received_at=now
    )
    PollState.objects.create(cursor="", last_success_at=now)
    CrlImport.objects.create(
        issuer_key_id="ab" * 20, crl_number=1, this_update=now, next_update=now + timedelta(days=1), entries=1,
        imported_at=now,
    )  # fmt: skip
    RevokedCertificate.objects.create(issuer_key_id="ab" * 20, serial="123", revoked_at=now, reason="keyCompromise")
    _axes_rows(clerk)
    users = {Principal.CLERK: clerk, Principal.SUPERVISOR: supervisor, Principal.AUDITOR: auditor}
    url_args: dict[Any, Any] = {
        **_holder_args(tokyo),
        "id": clerk.pk,  # a staff user's password page
        "pk": TOTPDevice.objects.get(user=supervisor).pk,  # a TOTP device's config and QR code
        "content_type_id": ContentType.objects.get_for_model(DriverRecord).pk,
        "object_id": record.pk,
        "app_label": "consents",
        "url": "nothing-here/",
    }
    for model in apps.get_models():
        url_args[model] = model.objects.order_by("pk").first()
    for model in (
        Group, TOTPDevice, AccessAttempt, AccessLog, AccessFailureLog, MynaportalLink, ConsentStatement, Consent
    ):  # fmt: skip
        assert url_args[model] is not None, f"the world has no {model.__name__}"
    elsewhere, elsewhere_url_args = _osaka(url_args, issue_card_for)
    holder = tokyo.holder
    return World(record, holder.statement, holder.consent, card, token, users, url_args, elsewhere, elsewhere_url_args)


def _osaka(url_args: dict[Any, Any], issue_card_for: Callable[..., TestCard]) -> tuple[Holder, dict[Any, Any]]:
    """The same objects for a holder of Osaka, made by Osaka's staff; url_args naming them."""
    office = Office.objects.create(code="27-LC", name="門真運転免許試験場", kind="licence_centre", prefecture="27")
    clerk, supervisor = _staff("olivia", Role.CLERK, office), _staff("oscar", Role.SUPERVISOR, office)
    osaka = _holder_objects(clerk, supervisor, issue_card_for, requester="大阪　花子", receipt="R-2")
    holder = osaka.holder
    rows = {
        DriverRecord: holder.record, RecordChange: RecordChange.objects.get(record=osaka.other),
        Consent: holder.consent, ConsentStatement: holder.statement, MynaportalLink: osaka.link,
        SuspensionRequest: osaka.suspension, DisclosureRequest: osaka.disclosure,
    }  # fmt: skip
    args = {**url_args, **_holder_args(osaka), **rows}
    for model in (AuditEvent, JlisEvent, QuarantinedEvent, OutboxMessage):  # rows without a record: the newest
        args[model] = model.objects.order_by("-pk").first() or url_args[model]
    return holder, args


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def every_log() -> Iterator[list[logging.LogRecord]]:
    """Every record of every logger at DEBUG (loggers that do not propagate included)."""
    handler = Collect()
    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    saved = [(logger, logger.level, logger.disabled) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
        logger.addHandler(handler)
    yield handler.records
    for logger, level, disabled in saved:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.disabled = disabled
