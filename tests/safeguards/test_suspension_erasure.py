"""R15: confirming a suspension erases exactly what was collected from the holder, keeps the
driver record and the audit trail, and stops the service for them, in one transaction."""

from __future__ import annotations

import base64
import json
from datetime import date

import pytest
from django.db import DatabaseError, connection
from django.urls import reverse
from django.utils import translation

from applier.batch import events_apply_pending
from consents.errors import ConsentRefused
from consents.feed import FeedState, record_feed
from consents.models import Consent, ConsentStatement, ConsentStatus
from consents.services import consent_register_from_mynaportal, statement_create
from driver_records.models import DriverRecord, RecordChange
from jlis_gateway.models import EventKind, JlisEvent, OutboxKind, OutboxMessage, OutboxStatus, QuarantinedEvent
from onestop.audit import audit_chain_verify
from onestop.audit_chain import audit_chain_link
from onestop.models import AuditEvent, IdempotentAnswerHolder, IdempotentRequest
from safeguards.models import SuspensionRequest, SuspensionStatus
from safeguards.services import suspension_confirm, suspension_propose
from safeguards.services.erasure import PAYLOAD_KEPT, VERIFICATION_KEPT
from tests.conftest import holder_of_record

from .conftest import _event, _move

pytestmark = pytest.mark.django_db

ITEMS = ("name", "address", "birth_date")


def suspend(holder, supervisor, second_supervisor) -> SuspensionRequest:
    proposal = suspension_propose(
        record_id=holder.record.pk, actor=supervisor, reason_code="misuse", grounds="evident", note="目的外の利用"
    )
    confirmed = suspension_confirm(request_id=proposal.pk, actor=second_supervisor)
    holder.record.refresh_from_db()  # the record now says the service is stopped (R15)
    return confirmed


def snapshot(holder) -> dict:
    """Everything of a holder the erasure could touch, as stored."""
    record = holder.record
    return {
        "record": DriverRecord.objects.filter(pk=record.pk).values().get(),
        "consents": list(Consent.objects.filter(record=record).order_by("pk").values()),
        "statements": list(ConsentStatement.objects.filter(record=record).order_by("pk").values()),
        "events": list(JlisEvent.objects.filter(pk__in=[e.pk for e in holder.events.values()]).order_by("pk").values()),
        "quarantined": QuarantinedEvent.objects.filter(pk=holder.quarantined.pk).values().get(),
        "history": list(RecordChange.objects.filter(record=record).order_by("pk").values()),
    }


def test_r15_the_consents_lose_their_statements_signatures_and_certificates(suspect, supervisor, second_supervisor):
    suspend(suspect, supervisor, second_supervisor)
    consents = list(Consent.objects.filter(record=suspect.record))
    assert len(consents) == 2
    for consent in consents:
        assert bytes(consent.statement_bytes) == b"" and consent.statement_sha256 == ""
        assert bytes(consent.signature) == b"" and bytes(consent.certificate) == b""
        assert set(consent.verification) <= VERIFICATION_KEPT and consent.verification["result"] == "valid"
        assert consent.cert_serial  # the serial stays: it is how J-LIS names the holder
    assert list(ConsentStatement.objects.filter(record=suspect.record).values_list("text", flat=True)) == ["", ""]
    statuses = dict(Consent.objects.filter(record=suspect.record).values_list("pk", "status"))
    assert statuses == {suspect.consent.pk: ConsentStatus.SUSPENDED, suspect.old_consent.pk: ConsentStatus.REVOKED}


def test_r15_jlis_data_and_its_history_are_erased_the_record_is_kept(suspect, supervisor, second_supervisor):
    before = snapshot(suspect)
    suspend(suspect, supervisor, second_supervisor)
    for event in JlisEvent.objects.filter(pk__in=[e.pk for e in suspect.events.values()]):
        assert set(event.payload) <= PAYLOAD_KEPT, event.event_id
    first = JlisEvent.objects.get(pk=suspect.events["first"].pk)
    assert first.payload["new_serial"] == suspect.events["second"].serial and first.status == "applied"
    waiting = JlisEvent.objects.get(pk=suspect.events["waiting"].pk)
    assert (waiting.status, waiting.reason) == ("skipped", "consent_suspended")
    # A quarantined repeat kept no values to erase: it stays as it was, naming only the event.
    assert QuarantinedEvent.objects.filter(pk=suspect.quarantined.pk).values().get() == before["quarantined"]
    history = RecordChange.objects.filter(record=suspect.record)
    for change in history.filter(field__in=ITEMS, source="jlis"):
        assert (change.old_value, change.new_value) == ("", "")
    counter_name = history.get(field="name", source="counter")
    assert (counter_name.old_value, counter_name.new_value) == ("", suspect.kept["name"])  # J-LIS gave the old one
    serial_links = history.filter(field="cert_serial").values_list("old_value", "new_value")
    assert [c for c in before["history"] if c["field"] == "cert_serial"] == list(
        history.filter(field="cert_serial").order_by("pk").values()
    ) and len(serial_links) == 3
    # The police's own licence record stays as it was; it only says that the service is stopped.
    after = DriverRecord.objects.filter(pk=suspect.record.pk).values().get()
    assert before["record"]["service_stopped_at"] is None and after.pop("service_stopped_at") is not None
    assert after == {k: v for k, v in before["record"].items() if k != "service_stopped_at"}


def test_r15_a_mynaportal_registration_naming_a_previous_serial_loses_its_certificate(
    suspect, jpki_hierarchy, jpki_card_key, supervisor, second_supervisor
):
    """After an expiry the holder signs with a new certificate; the event names their old serials."""
    card = jpki_hierarchy.issue_card(holder_of_record(suspect.record), key=jpki_card_key)
    registered = _event(
        EventKind.CONSENT_REGISTERED,
        serial=card.serial,
        seq=8,
        status="skipped",
        consent_id="J-MP-refused",
        items=["address"],
        consent_date="2027-01-10",
        previous_serials=[suspect.consent.cert_serial],
        certificate=base64.b64encode(card.certificate_der).decode(),
    )
    suspend(suspect, supervisor, second_supervisor)
    registered.refresh_from_db()
    assert registered.payload == {
        "consent_id": "J-MP-refused",
        "items": ["address"],
        "consent_date": "2027-01-10",
        "previous_serials": [suspect.consent.cert_serial],
    }


def test_r15_nothing_of_another_holder_is_touched(suspect, bystander, supervisor, second_supervisor):
    before = snapshot(bystander)
    suspend(suspect, supervisor, second_supervisor)
    assert snapshot(bystander) == before


def _tables() -> list[str]:
    return [t for t in connection.introspection.table_names() if not t.startswith("django_migrations")]


def _stored_text(value: object) -> str:
    """A column's value as the scan reads it on SQLite: bytes as hex (as PostgreSQL shows bytea),
    and JSON text also with its escapes read (SQLite keeps JSON as text, non-ASCII escaped)."""
    if isinstance(value, memoryview | bytes):
        return bytes(value).hex()
    text = str(value)
    if isinstance(value, str) and text[:1] in ("{", "[", '"'):
        try:
            return text + " " + json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            pass
    return text


def rows_containing(value: str) -> dict[str, int]:
    """Every table row whose stored form contains the value (bytea shows as hex)."""
    found = {}
    with connection.cursor() as cursor:
        for table in _tables():
            quoted = connection.ops.quote_name(table)
            if connection.vendor == "postgresql":
                cursor.execute(f"SELECT count(*) FROM {quoted} AS r WHERE r::text LIKE %s", [f"%{value}%"])  # noqa: S608
                n = cursor.fetchone()[0]
            else:
                cursor.execute(f"SELECT * FROM {quoted}")  # noqa: S608 (names from the catalogue)
                n = sum(1 for row in cursor.fetchall() if value in " ".join(map(_stored_text, row)))
            if n > 0:
                found[table] = n
    return found


def test_r15_the_erased_values_are_nowhere_in_the_database(suspect, bystander, supervisor, second_supervisor):
    for what, value in suspect.collected.items():
        assert rows_containing(value), f"the test's {what} is not in the database to begin with"
    suspend(suspect, supervisor, second_supervisor)
    for what, value in suspect.collected.items():
        assert rows_containing(value) == {}, what
    for what, value in suspect.kept.items():
        assert "driver_records_driverrecord" in rows_containing(value), what
    for what, value in bystander.collected.items():
        assert rows_containing(value), f"the other holder's {what} was erased"


def test_r15_the_audit_trail_keeps_the_counts_and_stays_whole(suspect, supervisor, second_supervisor):
    audit_chain_link()  # as the chainer does after each commit
    before = list(AuditEvent.objects.order_by("seq").values_list("seq", "row_hash"))
    request = suspend(suspect, supervisor, second_supervisor)
    audit_chain_link()
    assert list(AuditEvent.objects.filter(seq__lte=before[-1][0]).order_by("seq").values_list("seq", "row_hash")) == (
        before
    )
    assert audit_chain_verify() is None
    erase = AuditEvent.objects.get(action="holder_data.erase")
    assert (erase.record_number, erase.actor) == (suspect.record.number, second_supervisor)
    assert erase.new_values == {"suspension_request": request.pk, **request.erased}
    assert request.erased == {
        "consent.signed_statement": 2,
        "consent.signature": 2,
        "consent.certificate": 2,
        "consent.verification": 0,  # the evidence held no copy of the certificate's contents
        "consent_statement.text": 2,
        "jlis_event.payload": 3,  # the two moves applied and the one waiting
        "jlis_event.pending_skipped": 1,
        "record_change.values": 4,  # the first move's name and address, the second's address, the old name
        "idempotent_request.answer": 0,  # nothing was asked twice through the web here
    }
    suspended = AuditEvent.objects.get(action="consent.suspend")
    assert (suspended.subject_id, suspended.old_values, suspended.new_values["status"]) == (
        str(suspect.consent.pk),
        {"status": "active"},
        "suspended",
    )
    confirm = AuditEvent.objects.get(action="suspension.confirm")
    assert confirm.new_values["proposed_by"] == supervisor.username and confirm.actor == second_supervisor


def test_r15_jlis_is_asked_to_revoke_and_unsent_submissions_are_withdrawn(
    suspect, register, supervisor, second_supervisor
):
    unsent = register(suspect.record, items=("address",))  # a new consent still waiting to be sent
    suspend(suspect, supervisor, second_supervisor)
    revocations = OutboxMessage.objects.filter(kind=OutboxKind.REVOKE_CONSENT, status=OutboxStatus.PENDING)
    # The reflected consent is revoked at J-LIS; the unsent one never reaches it.
    assert list(revocations.filter(consent__in=[suspect.consent, unsent]).values_list("consent", flat=True)) == [
        suspect.consent.pk
    ]
    submission = OutboxMessage.objects.get(consent=unsent, kind=OutboxKind.SUBMIT_CONSENT)
    assert submission.status == OutboxStatus.FAILED and "R15" in submission.last_error
    unsent.refresh_from_db()
    assert unsent.status == ConsentStatus.SUSPENDED
    assert AuditEvent.objects.get(action="consent.suspend", subject_id=str(unsent.pk)).new_values == {
        "status": "suspended",
        "submission_withdrawn": 1,
        "jlis_revocation_queued": False,
    }


def test_r15_the_feed_stops_and_new_information_is_skipped(suspect, supervisor, second_supervisor):
    suspend(suspect, supervisor, second_supervisor)
    assert record_feed(suspect.record).state == FeedState.SUSPENDED
    serial = suspect.kept["serial"]
    move = _move(old=serial, new=f"{serial}9", seq=9, address="東京都江東区有明三丁目１１番１号")
    events_apply_pending()
    move.refresh_from_db()
    record = DriverRecord.objects.get(pk=suspect.record.pk)
    assert (move.status, move.reason) == ("skipped", "consent_suspended")
    assert "address" not in move.payload  # nothing more is kept (R2's scrub)
    assert (record.address, record.cert_serial) == (suspect.kept["address"], serial)


def test_r15_new_registrations_are_refused_with_the_reason(suspect, clerk, supervisor, second_supervisor):
    suspend(suspect, supervisor, second_supervisor)
    with translation.override("ja"), pytest.raises(ConsentRefused) as refusal:
        statement_create(record_id=suspect.record.pk, items=["address"], actor=clerk)
    assert refusal.value.code == "service_suspended"
    assert "防御措置（利用規約７）により停止" in refusal.value.message


def test_r15_a_registration_through_mynaportal_is_not_applied_nor_kept(
    suspect, jpki_hierarchy, jpki_card_key, supervisor, second_supervisor
):
    suspend(suspect, supervisor, second_supervisor)
    card = jpki_hierarchy.issue_card(holder_of_record(suspect.record), key=jpki_card_key)
    registered = _event(
        EventKind.CONSENT_REGISTERED,
        serial=suspect.kept["serial"],
        seq=10,
        consent_id="J-MP-after",
        items=["address"],
        consent_date="2027-01-10",
        certificate=base64.b64encode(card.certificate_der).decode(),
    )
    events_apply_pending()
    registered.refresh_from_db()
    assert (registered.status, registered.reason) == ("skipped", "service_suspended")
    assert "certificate" not in registered.payload
    assert not Consent.objects.filter(jlis_consent_id="J-MP-after").exists()
    direct = consent_register_from_mynaportal(
        record_id=suspect.record.pk,
        items=["address"],
        consent_date=date(2027, 1, 11),
        certificate_der=card.certificate_der,
        jlis_consent_id="J-MP-again",
    )
    assert (direct.applied, direct.reason) == (False, "service_suspended")


def test_r15_a_holder_without_a_consent_in_force_is_stopped_too(bystander, supervisor, second_supervisor, clerk):
    Consent.objects.filter(record=bystander.record).update(status=ConsentStatus.REVOKED)
    suspend(bystander, supervisor, second_supervisor)
    assert record_feed(bystander.record).state == FeedState.SUSPENDED
    with pytest.raises(ConsentRefused, match="service_suspended"):
        statement_create(record_id=bystander.record.pk, items=["address"], actor=clerk)
    assert not Consent.objects.filter(record=bystander.record).exclude(certificate=b"").exists()


def test_r15_a_failure_at_the_last_write_leaves_neither_erasure_nor_audit(suspect, supervisor, second_supervisor):
    proposal = suspension_propose(
        record_id=suspect.record.pk, actor=supervisor, reason_code="malware", grounds="evident", note="不正なファイル"
    )
    before, audit_rows = snapshot(suspect), AuditEvent.objects.count()
    # The audit rows are the transaction's last write: make the database refuse the very last of
    # it (PostgreSQL: the rows' entries on the chainer's waiting list, which the trail's trigger
    # adds; SQLite: the chain's head, which its writer moves in the same transaction).
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'forced failure'; END $$"
            )
            cursor.execute(
                "CREATE TRIGGER test_refuse AFTER INSERT ON onestop_auditpending "
                "FOR EACH ROW EXECUTE FUNCTION test_refuse()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER test_refuse BEFORE UPDATE ON onestop_auditchainhead "
                "BEGIN SELECT RAISE(ABORT, 'forced failure'); END"
            )
    with pytest.raises(DatabaseError, match="forced failure"):
        suspension_confirm(request_id=proposal.pk, actor=second_supervisor)
    assert snapshot(suspect) == before
    assert AuditEvent.objects.count() == audit_rows
    assert not AuditEvent.objects.filter(action__in=["suspension.confirm", "holder_data.erase"]).exists()
    assert SuspensionRequest.objects.get(pk=proposal.pk).status == SuspensionStatus.PROPOSED
    assert not OutboxMessage.objects.filter(kind=OutboxKind.REVOKE_CONSENT, consent=suspect.consent).exists()


def _statement_by_api(client, clerk, holder, key: str):
    client.force_login(clerk)
    return client.post(
        reverse("api:statements"),
        {"record_id": holder.record.pk, "items": ["address"]},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_r15_the_answers_kept_for_repeated_requests_are_erased(
    client, clerk, suspect, bystander, supervisor, second_supervisor
):
    """Issue 16: after a suspension the idempotency replay cache still held the statement's text."""
    made = _statement_by_api(client, clerk, suspect, "r15-statement-0001")
    other = _statement_by_api(client, clerk, bystander, "r15-statement-0002")
    assert (made.status_code, other.status_code) == (201, 201)
    nonce = made.json()["text"].splitlines()[-1]  # 確認番号: ..., in the kept answer's body
    kept = IdempotentRequest.objects.filter(done=True)
    assert [nonce in bytes(row.body).decode() for row in kept.order_by("pk")] == [True, False]

    request = suspend(suspect, supervisor, second_supervisor)
    assert not any(nonce in bytes(row.body).decode() for row in IdempotentRequest.objects.all())
    assert request.erased["idempotent_request.answer"] == 1
    assert not IdempotentAnswerHolder.objects.filter(record_number=suspect.record.number).exists()
    # The other holder's answer is still replayed; the suspect's repeat is not, and is refused.
    assert _statement_by_api(client, clerk, bystander, "r15-statement-0002")["Idempotent-Replayed"] == "true"
    again = _statement_by_api(client, clerk, suspect, "r15-statement-0001")
    assert again.status_code == 422 and again.json()["code"] == "service_suspended"
    assert not again.has_header("Idempotent-Replayed")
