"""`/metrics`: closed to all but the scraper's token; each gauge counts what the database holds,
each counter follows real work. The exposition is read back with Prometheus's own parser and
linted with promtool (Prometheus's tool), not with the code that wrote it."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from applier.tasks import events_apply
from consents.errors import ConsentRefused
from consents.models import Channel, Consent, ConsentStatus
from consents.services import consent_register, statement_create
from jlis_gateway.models import (
    EventKind,
    EventStatus,
    JlisEvent,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    PollState,
    QuarantinedEvent,
)
from onestop.metrics import metric_increment
from operations.services import BEAT, heartbeat_record
from tests.driver_records.world import terms
from tests.factories import DriverRecordFactory

TOKEN = "scraper-token-for-tests-0123456789"
AUTH = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_CACHE_SECONDS = 0  # every scrape reads the database afresh in these tests


def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", **AUTH)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")  # the text exposition format
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.django_db
def test_metrics_do_not_exist_without_a_configured_token(client, auditor, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    client.force_login(auditor)
    assert client.get("/metrics").status_code == 404


@pytest.mark.django_db
def test_metrics_need_the_scrapers_token_not_a_staff_session(client, auditor, metrics_on):
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong-token").status_code == 401
    client.force_login(auditor)
    assert client.get("/metrics").status_code == 401


def _consent(status: str) -> Consent:
    record = DriverRecordFactory()
    return Consent.objects.create(
        record=record,
        reference=f"M-{record.pk:06d}",
        items=["address"],
        channel=Channel.COUNTER,
        terms_version=terms(),
        status=status,
        created_at=timezone.now(),
    )


def _outbox(consent: Consent, status: str, age: float) -> None:
    at = timezone.now() - timedelta(seconds=age)
    OutboxMessage.objects.create(
        kind=OutboxKind.SUBMIT_CONSENT, consent=consent, idempotency_key=f"m-{consent.pk}-{status}",
        status=status, next_attempt_at=at, created_at=at,
    )  # fmt: skip


def _event(n: int, status: str, age: float) -> None:
    at = timezone.now() - timedelta(seconds=age)
    JlisEvent.objects.create(
        event_id=f"evt-{n}", kind=EventKind.LATEST_INFO, holder_seq=n, serial=f"9{n:05d}", occurred_at=at,
        payload={}, received_at=at, status=status,
    )  # fmt: skip


@pytest.mark.django_db
def test_the_gauges_count_what_the_database_holds(client, metrics_on):
    last_poll = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    PollState.objects.create(name="events", last_success_at=last_poll, last_attempt_at=last_poll)
    for n, age in enumerate((600, 120, 30)):
        _event(n, EventStatus.PENDING, age)
    _event(9, EventStatus.APPLIED, 5000)
    for _ in range(2):
        QuarantinedEvent.objects.create(reason="unreadable", received_at=timezone.now())
    active, revoked, pending = _consent(ConsentStatus.ACTIVE), _consent(ConsentStatus.REVOKED), _consent("pending")
    _consent(ConsentStatus.ACTIVE)
    _outbox(pending, OutboxStatus.PENDING, 300)
    _outbox(active, OutboxStatus.SENT, 9000)
    _outbox(revoked, OutboxStatus.FAILED, 9000)
    heartbeat_record(component=BEAT, at=timezone.now() - timedelta(seconds=5))

    samples = scrape(client)

    assert value(samples, "onestop_jlis_poll_last_success_timestamp_seconds") == last_poll.timestamp()
    assert value(samples, "onestop_jlis_poll_failing") == 0
    assert value(samples, "onestop_jlis_events_pending") == 3
    assert 600 <= value(samples, "onestop_jlis_events_oldest_pending_age_seconds") < 660
    assert value(samples, "onestop_jlis_events_quarantined") == 2
    assert {s: value(samples, "onestop_outbox_messages", status=s) for s in OutboxStatus.values} == {
        "pending": 1, "sending": 0, "sent": 1, "failed": 1,
    }  # fmt: skip
    assert 300 <= value(samples, "onestop_outbox_oldest_unsent_age_seconds") < 360
    assert value(samples, "onestop_consents", status="active") == 2
    assert value(samples, "onestop_consents", status="revoked") == 1
    assert value(samples, "onestop_consents", status="pending") == 1
    assert value(samples, "onestop_consents", status="expired") == 0  # every status is shown
    assert 5 <= value(samples, "onestop_heartbeat_age_seconds", component="beat") < 60
    assert value(samples, "onestop_heartbeat_age_seconds", component="worker") == -1  # never


@pytest.mark.django_db
def test_a_refused_signature_is_counted_by_its_code(client, metrics_on, clerk, issue_card_for):
    terms()
    record = DriverRecordFactory(holding_status="licence_card_only")
    card = issue_card_for(record)
    statement = statement_create(record_id=record.pk, items=["address"], actor=clerk)
    before = scrape(client)
    tampered = card.sign(statement.text.encode("utf-8") + b" ")  # not what the statement says
    with pytest.raises(ConsentRefused) as refusal:
        consent_register(
            statement_id=statement.pk, signature=tampered, certificate_der=card.certificate_der, actor=clerk
        )
    after = scrape(client)
    name, code = "onestop_signature_refusals_total", refusal.value.code
    assert value(after, name, code=code) == value(before, name, code=code) + 1


@pytest.mark.django_db
def test_the_applier_task_counts_what_it_skipped_and_why(client, metrics_on, settings):
    settings.JLIS_UNKNOWN_SERIAL_GRACE_SECONDS = 60
    _event(1, EventStatus.PENDING, 3600)  # about a serial no record ever had, past the grace: skipped
    name, labels = "onestop_jlis_events_processed_total", {"outcome": "skipped", "reason": "unknown_serial"}
    before = scrape(client)
    events_apply()
    assert value(scrape(client), name, **labels) == value(before, name, **labels) + 1


def test_counters_without_redis_are_kept_by_the_process(settings):
    settings.REDIS_URL = ""
    from onestop.metrics import metric_counters

    metric_increment("onestop_jlis_polls_total", result="failed")
    metric_increment("onestop_jlis_polls_total", 2, result="failed")
    assert ("onestop_jlis_polls_total", {"result": "failed"}, 3) in metric_counters()


def test_an_unknown_counter_is_refused_rather_than_silently_lost():
    with pytest.raises(ValueError, match="unknown counter"):
        metric_increment("onestop_typo_total")


@pytest.mark.django_db
def test_metrics_carry_no_personal_data(client, metrics_on, clerk, issue_card_for):
    record = DriverRecordFactory(name="詩音　鑑定", address="東京都千代田区霞が関二丁目１番１号")
    _consent(ConsentStatus.ACTIVE)
    text = client.get("/metrics", **AUTH).content.decode()
    assert record.name not in text and record.address not in text and record.number not in text


@pytest.mark.django_db
@pytest.mark.promtool
def test_promtool_accepts_the_exposition(client, metrics_on):
    metric_increment("onestop_signature_refusals_total", code="signature_mismatch")
    body = client.get("/metrics", **AUTH).content
    lint = subprocess.run(
        [shutil.which("promtool") or "promtool", "check", "metrics"], input=body, capture_output=True, check=False
    )
    # promtool lints names, types and help texts; django-prometheus's own metrics are not ours to rename.
    ours = [
        line for line in lint.stdout.decode().splitlines() + lint.stderr.decode().splitlines() if "onestop_" in line
    ]
    assert ours == []


@pytest.mark.django_db
def test_an_event_waiting_for_its_serial_is_not_due_one_about_a_linked_serial_is(client, metrics_on):
    """An event about a serial no record has may wait for an earlier event to link it (the
    applier's grace): the operator's alert must not fire for it; one about a linked serial must."""
    _event(1, EventStatus.PENDING, 3000)  # serial 900001: no record holds it
    samples = scrape(client)
    assert 3000 <= value(samples, "onestop_jlis_events_oldest_pending_age_seconds") < 3100
    assert value(samples, "onestop_jlis_events_oldest_due_age_seconds") == 0
    DriverRecordFactory(cert_serial="900002", cert_issuer_key_id="ab" * 20)
    _event(2, EventStatus.PENDING, 1200)  # serial 900002: linked, so it can be applied now
    samples = scrape(client)
    assert 1200 <= value(samples, "onestop_jlis_events_oldest_due_age_seconds") < 1300


@pytest.mark.django_db
def test_the_audit_checkpoint_age_is_that_of_the_last_signed_checkpoint(client, metrics_on):
    from onestop.audit_checkpoints import audit_checkpoint_write

    assert value(scrape(client), "onestop_audit_checkpoint_age_seconds") == -1  # never signed
    audit_checkpoint_write()
    assert 0 <= value(scrape(client), "onestop_audit_checkpoint_age_seconds") < 60
