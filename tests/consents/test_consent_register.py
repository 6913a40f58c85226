"""R3: a consent is verified before anything is stored or sent; R17: it records its terms."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from consents.errors import ConsentRefused
from consents.jpki.testcard import issue_certificate
from consents.models import Consent, ConsentStatement, ConsentStatus, CounterTerminal, RevokedCertificate
from consents.services import consent_register
from jlis_gateway.models import OutboxKind, OutboxMessage
from onestop.models import AuditEvent
from tests.conftest import holder_of_record
from tests.factories import DriverRecordFactory

from .conftest import signed

pytestmark = pytest.mark.django_db


def test_r03_good_signature_is_stored_pending_with_its_evidence_and_queued(
    make_statement, issue_card_for, clerk, record, jpki_hierarchy
):
    statement = make_statement(record, ("address", "name"))
    card = issue_card_for(record)
    consent = consent_register(statement_id=statement.pk, actor=clerk, **signed(statement, card))

    consent.refresh_from_db()
    assert consent.status == ConsentStatus.PENDING
    assert consent.items == ["address", "name"]
    assert bytes(consent.statement_bytes) == statement.text.encode("utf-8")
    assert consent.statement_sha256 == hashlib.sha256(statement.text.encode("utf-8")).hexdigest()
    assert bytes(consent.certificate) == card.certificate_der
    assert bytes(consent.signature) == card.sign(statement.text.encode("utf-8"))
    assert (consent.cert_serial, consent.cert_issuer_key_id) == (card.serial, jpki_hierarchy.signing_ca.key_id)
    assert consent.cert_not_after == card.certificate.not_valid_after_utc
    assert consent.verification["result"] == "valid"
    assert consent.verification["trust_anchor"].startswith("JPKI-TEST signing CA")
    assert consent.verification["revocation_source"]
    assert record.name not in str(consent.verification)
    # Pending until J-LIS reflects it (R5): no consent date yet.
    assert (consent.consent_date, consent.first_day, consent.last_valid_day) == (None, None, None)
    assert consent.reference.startswith("C")
    outbox = OutboxMessage.objects.get()
    assert (outbox.kind, outbox.consent) == (OutboxKind.SUBMIT_CONSENT, consent)
    assert ConsentStatement.objects.get(pk=statement.pk).used_at is not None
    event = AuditEvent.objects.get(action="consent.register")
    assert (event.actor, event.serial, event.subject_id) == (clerk, card.serial, str(consent.pk))


def test_r17_consent_records_the_terms_version_it_was_given_under(register, record, terms):
    consent = register(record)
    assert consent.terms_version == terms
    assert AuditEvent.objects.get(action="consent.register").new_values["terms_version"] == "2025.1"


def _flip(data: bytes) -> bytes:
    return bytes([data[0] ^ 0x01]) + data[1:]


BAD_SIGNATURES = {
    "tampered signature": ("signature_mismatch", lambda ctx: {"signature": _flip(ctx.good["signature"])}),
    "another statement signed": (
        "signature_mismatch",
        lambda ctx: {"signature": ctx.card.sign(ctx.statement.text.replace("住所", "氏名").encode())},
    ),
    "garbage certificate": ("unreadable_input", lambda ctx: {"certificate_der": b"\x30\x82\x01\x00garbage"}),
    "empty signature": ("unreadable_input", lambda ctx: {"signature": b""}),
    "user-authentication certificate": ("not_signing_certificate", lambda ctx: ctx.sign(ctx.auth_card)),
    "other hierarchy": ("chain_not_trusted", lambda ctx: ctx.sign(ctx.foreign_card)),
    "expired certificate": ("not_valid_at_signing_time", lambda ctx: ctx.sign(ctx.expired_card)),
    "revoked certificate": ("revoked", lambda ctx: ctx.revoke_and_sign()),
    "1024-bit key": ("key_too_small", lambda ctx: ctx.sign(ctx.weak_card)),
    "another person's card": ("holder_mismatch", lambda ctx: ctx.sign(ctx.other_persons_card)),
}


class BadSignatureContext:
    def __init__(self, statement, record, issue_card_for, jpki_hierarchy, foreign_hierarchy, jpki_card_key):
        self.statement, self.record = statement, record
        self.card = issue_card_for(record)
        self.good = signed(statement, self.card)
        self._issue, self._hierarchy = issue_card_for, jpki_hierarchy
        self._foreign, self._key = foreign_hierarchy, jpki_card_key

    def sign(self, card) -> dict[str, bytes]:
        return signed(self.statement, card)

    @property
    def auth_card(self):
        holder = self.card.holder
        return issue_certificate(self._hierarchy.auth_ca, holder, key=self._key)

    @property
    def foreign_card(self):
        return self._foreign.issue_card(self.card.holder, key=self._key)

    @property
    def expired_card(self):
        now = datetime.now(UTC)
        return self._issue(self.record, issued_at=now - timedelta(days=2000), not_after=now - timedelta(days=1))

    @property
    def weak_card(self):
        return self._issue(self.record, key_bits=1024)

    @property
    def other_persons_card(self):
        return self._hierarchy.issue_card(holder_of_record(self.record, birth_date=date(1990, 1, 2)), key=self._key)

    def revoke_and_sign(self) -> dict[str, bytes]:
        RevokedCertificate.objects.create(
            issuer_key_id=self._hierarchy.signing_ca.key_id,
            serial=self.card.serial,
            revoked_at=timezone.now() - timedelta(days=1),
            reason="",
        )
        return self.good


@pytest.mark.parametrize("case", BAD_SIGNATURES, ids=list(BAD_SIGNATURES))
def test_r03_each_bad_signature_is_refused_and_nothing_is_stored_or_sent(
    case, make_statement, record, clerk, issue_card_for, jpki_hierarchy, foreign_hierarchy, jpki_card_key
):
    statement = make_statement(record)
    ctx = BadSignatureContext(statement, record, issue_card_for, jpki_hierarchy, foreign_hierarchy, jpki_card_key)
    code, bad = BAD_SIGNATURES[case]
    submission = {**ctx.good, **bad(ctx)}

    with pytest.raises(ConsentRefused) as caught:
        consent_register(statement_id=statement.pk, actor=clerk, **submission)

    assert caught.value.code == code
    assert caught.value.message  # the clerk sees why, in words
    assert not Consent.objects.exists()
    assert not OutboxMessage.objects.exists()
    statement.refresh_from_db()
    assert (statement.used_at, statement.refused_code) == (None, code)
    assert AuditEvent.objects.get(action="consent.refuse").new_values == {"code": code}
    # The statement is still good: the holder can sign again, correctly.
    consent_register(statement_id=statement.pk, actor=clerk, **signed(statement, issue_card_for(record)))
    assert Consent.objects.count() == 1


def test_double_submission_of_one_statement_makes_one_consent(make_statement, issue_card_for, clerk, record):
    statement = make_statement(record)
    submission = signed(statement, issue_card_for(record))
    consent_register(statement_id=statement.pk, actor=clerk, **submission)
    with pytest.raises(ConsentRefused) as caught:
        consent_register(statement_id=statement.pk, actor=clerk, **submission)
    assert caught.value.code == "statement_used"
    assert Consent.objects.count() == 1
    assert OutboxMessage.objects.count() == 1


def test_expired_statement_is_refused(make_statement, issue_card_for, clerk, record):
    statement = make_statement(record)
    ConsentStatement.objects.filter(pk=statement.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(ConsentRefused) as caught:
        consent_register(statement_id=statement.pk, actor=clerk, **signed(statement, issue_card_for(record)))
    assert caught.value.code == "statement_expired"
    assert not Consent.objects.exists()


def test_r01_holder_no_longer_eligible_when_signing_is_refused(make_statement, issue_card_for, clerk, record):
    statement = make_statement(record)
    type(record).objects.filter(pk=record.pk).update(holding_status="licence_both")
    with pytest.raises(ConsentRefused) as caught:
        consent_register(statement_id=statement.pk, actor=clerk, **signed(statement, issue_card_for(record)))
    assert caught.value.code == "not_eligible"
    assert not Consent.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_a_terminal_registers_for_its_own_office_only(
    make_statement, issue_card_for, record, tokyo_office, osaka_office
):
    statement = make_statement(record)
    now = timezone.now()
    osaka_terminal = CounterTerminal.objects.create(
        name="門真1", office=osaka_office, token_prefix="x", token_hash="a" * 64, created_at=now
    )
    tokyo_terminal = CounterTerminal.objects.create(
        name="府中1", office=tokyo_office, token_prefix="y", token_hash="b" * 64, created_at=now
    )
    submission = signed(statement, issue_card_for(record))
    with pytest.raises(ConsentRefused) as caught:
        consent_register(statement_id=statement.pk, actor=osaka_terminal, **submission)
    assert caught.value.code == "statement_other_office"
    consent = consent_register(statement_id=statement.pk, actor=tokyo_terminal, **submission)
    assert consent.clerk == statement.clerk  # the clerk who made the statement
    assert AuditEvent.objects.get(action="consent.register").actor_label == "terminal:府中1"


def test_a_certificate_linked_to_another_record_is_refused(
    make_statement, issue_card_for, clerk, record, jpki_hierarchy
):
    card = issue_card_for(record)
    DriverRecordFactory(cert_serial=card.serial, cert_issuer_key_id=jpki_hierarchy.signing_ca.key_id)
    statement = make_statement(record)
    with pytest.raises(ConsentRefused) as caught:
        consent_register(statement_id=statement.pk, actor=clerk, **signed(statement, card))
    assert caught.value.code == "certificate_linked_elsewhere"
    assert not OutboxMessage.objects.exists()
