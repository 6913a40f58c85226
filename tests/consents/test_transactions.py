"""One real-transaction smoke test per entry point: Django's TestCase hides `durable=True`
nesting errors, these run each service as production does (autocommit, no outer transaction)."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, date, datetime

import pytest
from django.db import transaction
from django.urls import reverse

from consents.jpki.democard import demo_card_for
from consents.models import Channel, Consent, ConsentStatement, ConsentStatus, MynaportalLink
from consents.services import (
    consent_expire_due,
    consent_reflect,
    consent_register_from_mynaportal,
    consent_reject,
    consent_revoke,
    consent_revoke_elsewhere,
    mynaportal_link_record,
)
from consents.services.terminals import terminal_create
from consents.tasks import consent_expire_due_task
from onestop.audit import audit_chain_verify
from onestop.audit_chain import audit_chain_link
from onestop.models import AuditEvent

from .conftest import signed

pytestmark = pytest.mark.django_db(transaction=True)


def test_counter_flow_services_commit_on_their_own(register, record, clerk, supervisor):
    consent = register(record)  # statement_create + consent_register
    assert consent_reflect(consent_id=consent.pk, consent_date=date(2026, 4, 1)).applied
    mynaportal_link_record(record_id=record.pk, actor=clerk)
    consent_revoke(consent_id=consent.pk, actor=supervisor, reason="本人の申出")
    assert Consent.objects.get().status == ConsentStatus.REVOKED
    assert MynaportalLink.objects.exists()
    audit_chain_link()  # as the chainer does after the commits
    assert audit_chain_verify() is None


def test_jlis_event_services_run_alone_and_inside_the_appliers_batch(register, record, terms, issue_card_for):
    first, second = register(record), register(record)
    assert consent_reject(consent_id=first.pk, reason="不受理").applied
    with transaction.atomic(durable=True):  # as the applier runs a batch
        assert consent_reflect(consent_id=second.pk, consent_date=date(2026, 4, 1)).applied
        mynaportal = consent_register_from_mynaportal(
            record_id=record.pk,
            items=["address"],
            consent_date=date(2026, 5, 1),
            certificate_der=issue_card_for(record).certificate_der,
            jlis_consent_id="MP-9",
        )
    assert (mynaportal.applied, mynaportal.reason) == (False, "no_mynaportal_link")
    revoked = consent_revoke_elsewhere(
        consent_id=second.pk, channel=Channel.JPKI_MOBILE, revoked_at=datetime(2026, 6, 1, tzinfo=UTC)
    )
    assert revoked.applied
    audit_chain_link()  # as the chainer does after the commits
    assert audit_chain_verify() is None


def test_daily_expiry_task_commits(register, record):
    consent = register(record)
    consent_reflect(consent_id=consent.pk, consent_date=date(2010, 1, 1))
    assert consent_expire_due_task() == 1
    assert consent_expire_due(today=date(2099, 1, 1)) == 0
    assert Consent.objects.get().status == ConsentStatus.EXPIRED


def test_counter_pages_and_api_commit_through_the_idempotency_middleware(
    client, clerk, record, terms, demo_cards, tokyo_office
):
    client.force_login(clerk)
    form = {"items": ["address"], "idempotency_key": "k-form-001"}
    assert client.post(reverse("consents:statement-new", args=[record.pk]), form).status_code == 302
    created = client.post(
        "/api/v1/statements/",
        json.dumps({"record_id": record.pk, "items": ["address"]}),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-api-0001",
    )
    statement = ConsentStatement.objects.get(pk=created.json()["id"])
    _terminal, token = terminal_create(name="府中1", office=tokyo_office, actor=None)
    submission = signed(statement, demo_card_for(record))
    response = client.post(
        f"/api/v1/statements/{statement.pk}/signature/",
        json.dumps(
            {
                "signature": base64.b64encode(submission["signature"]).decode(),
                "certificate": base64.b64encode(submission["certificate_der"]).decode(),
            }
        ),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-api-0002",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 201
    assert Consent.objects.get().status == ConsentStatus.PENDING


@pytest.mark.celery_worker
def test_daily_expiry_runs_on_a_real_worker(celery_worker_process, register, record):
    consent = register(record)
    consent_reflect(consent_id=consent.pk, consent_date=date(2010, 1, 1))

    consent_expire_due_task.delay()

    deadline = time.monotonic() + 60  # waiting for the worker, not measuring it
    while Consent.objects.get(pk=consent.pk).status != ConsentStatus.EXPIRED:
        assert time.monotonic() < deadline, "the worker did not expire the consent within 60 s"
        time.sleep(0.2)
    assert AuditEvent.objects.filter(action="consent.expire", subject_id=str(consent.pk)).count() == 1
