"""A supervisor's revocation racing the applier: nothing is applied after a revocation has
committed. The control shows the same interleaving without the record lock loses the rule."""

import threading

import pytest
from django.db import connection

from applier import batch
from applier.batch import events_apply_pending
from applier.decide import RecordState
from applier.state import LockedRecords
from consents.models import ConsentStatus
from consents.services import consent_revoke
from driver_records.bulk import RECORD_FIELDS
from driver_records.models import DriverRecord
from jlis_gateway.models import JlisEvent

from .world import holder, latest_info

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def _race(monkeypatch, supervisor, *, lock_records: bool) -> tuple[bool, JlisEvent, str]:
    record = holder(serial="1001", prefecture="13")
    consent = record.consents.get()
    # A move within Tokyo: the Tokyo supervisor still serves the holder after it (R4).
    event = latest_info(seq=1, old="1001", new="2002", address="東京都府中市多磨町３丁目１番地")
    seen: dict[str, bool] = {}
    consents_read, revoked = threading.Event(), threading.Event()
    original_consents_for = batch.consents_for

    def pause_after_reading_consents(record_ids):
        views = original_consents_for(record_ids)
        consents_read.set()
        # Did the revocation commit while this batch held what it read? With the record lock it
        # cannot: it waits for the batch, so this wait runs out.
        seen["revoked_during_apply"] = revoked.wait(timeout=3 if lock_records else 20)
        return views

    monkeypatch.setattr(batch, "consents_for", pause_after_reading_consents)
    if not lock_records:

        def read_without_lock(serials):
            rows = DriverRecord.objects.filter(cert_serial__in=set(serials)).values(*RECORD_FIELDS)
            return LockedRecords({row["cert_serial"]: RecordState(**row) for row in rows}, frozenset())

        monkeypatch.setattr(batch, "lock_records_by_serial", read_without_lock)

    def apply() -> None:
        try:
            events_apply_pending()
        finally:
            connection.close()

    def revoke() -> None:
        try:
            consents_read.wait(timeout=10)
            consent_revoke(consent_id=consent.pk, actor=supervisor, reason="本人からの申出")
            revoked.set()
        finally:
            connection.close()

    threads = [threading.Thread(target=apply), threading.Thread(target=revoke)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    event.refresh_from_db()
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.REVOKED
    return seen["revoked_during_apply"], event, consent.status


def test_control_without_the_record_lock_an_apply_lands_after_the_revocation(monkeypatch, supervisor):
    revoked_during_apply, event, _status = _race(monkeypatch, supervisor, lock_records=False)
    assert revoked_during_apply
    assert event.status == "applied"  # the rule broken: applied after the revocation committed


def test_with_the_record_lock_nothing_is_applied_after_a_revocation_commits(monkeypatch, supervisor):
    revoked_during_apply, event, _status = _race(monkeypatch, supervisor, lock_records=True)
    # The revocation waited for the batch holding the record: the batch committed first.
    assert not revoked_during_apply
    assert event.status == "applied"


def test_a_revocation_committed_first_stops_the_apply(supervisor):
    record = holder(serial="1001", prefecture="13")
    consent_revoke(consent_id=record.consents.get().pk, actor=supervisor, reason="本人からの申出")
    event = latest_info(seq=1, old="1001", new="2002", address="大阪府門真市１")
    events_apply_pending()
    event.refresh_from_db()
    assert (event.status, event.reason) == ("skipped", "consent_revoked")
