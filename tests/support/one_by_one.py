"""The per-event path: one event, one transaction, plain ORM. Kept for the tests and the benchmark
(never run by the system): the batch path (applier.batch) must agree with it."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F

from applier.batch import ApplyResult, _view, apply_latest_info
from applier.consent_events import WAIT_REASONS, consent_event_apply
from applier.decide import Decision, RecordState, decide_latest_info
from applier.state import RECORD_FIELDS, consents_for, serials_linked_before
from applier.write import Applied, events_mark, history_and_audit_write, now
from driver_records.models import DriverRecord
from driver_records.normalise import name_search_key
from jlis_gateway.models import EventKind, EventStatus, JlisEvent
from onestop.clock import japan_date


def event_apply(*, event_pk: int, at: datetime | None = None) -> Decision | None:
    """Apply one pending event. None: not pending, or still waiting for what it names."""
    at = at or now()
    grace = timedelta(seconds=settings.JLIS_UNKNOWN_SERIAL_GRACE_SECONDS)
    with transaction.atomic(durable=True):
        event = JlisEvent.objects.select_for_update().filter(pk=event_pk).first()
        if event is None or event.status != EventStatus.PENDING:
            return None
        if event.kind != EventKind.LATEST_INFO:
            outcome = consent_event_apply(event, at)
            if not outcome.applied and outcome.reason in WAIT_REASONS and at - event.received_at < grace:
                return None
            reason = "" if outcome.applied else outcome.reason
            events_mark({reason: [event.pk]}, {}, at)
            return Decision(skip=reason)
        record = _record_named(event.serial)
        if record is None and at - event.received_at < grace:
            return None
        consent = consents_for([record.id]).get(record.id) if record else None
        decision = decide_latest_info(_view(event), record, consent, japan_date(at))
        applied: list[Applied] = []
        if not decision.skip:
            assert record is not None
            apply_latest_info(event, decision, record, applied, {})
            DriverRecord.objects.filter(pk=record.id).update(
                name=record.name,
                name_key=name_search_key(record.name),
                address=record.address,
                birth_date=record.birth_date,
                cert_serial=record.cert_serial,
                cert_not_after=record.cert_not_after,
                jlis_seq=record.jlis_seq,
                cert_seq=record.cert_seq,
                version=F("version") + 1,
                updated_at=at,
            )
            history_and_audit_write(applied, at)
        events_mark({decision.skip: [event.pk]}, {event.pk: decision}, at)
        return decision


def _record_named(serial: str) -> RecordState | None:
    """The record linked to the serial, else the one it was linked to before (R13), locked."""
    rows = DriverRecord.objects.select_for_update().exclude(cert_serial="").values(*RECORD_FIELDS)
    row = rows.filter(cert_serial=serial).first()
    if row is None and (record_id := serials_linked_before([serial]).get(serial)) is not None:
        row = DriverRecord.objects.select_for_update().filter(pk=record_id).values(*RECORD_FIELDS).first()
    return RecordState(**row) if row else None


def events_apply_one_by_one(*, at: datetime | None = None) -> ApplyResult:
    """Every pending event through the per-event path, with the same retry of waiting events."""
    at = at or now()
    result, waiting = ApplyResult(), []
    pending = JlisEvent.objects.filter(status=EventStatus.PENDING).order_by("pk")
    for pk in list(pending.values_list("pk", flat=True)):
        decision = event_apply(event_pk=pk, at=at)
        result.count(decision.skip) if decision else waiting.append(pk)
    while waiting:
        still = []
        for pk in waiting:
            decision = event_apply(event_pk=pk, at=at)
            result.count(decision.skip) if decision else still.append(pk)
        if len(still) == len(waiting):
            break
        waiting = still
    result.waiting = len(waiting)
    return result
