"""R9, R6, R15: a consent that has ended stays ended, and a stopped service stays stopped, whatever
writes the row: the admin, a shell's save() or update(), raw SQL (the database refuses; the
services never try). Runs on the database the suite runs on: PostgreSQL's trigger in CI, SQLite's
as `make run` has it."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from applier.batch import events_apply_pending
from consents.models import Consent, ConsentStatus
from consents.services.suspension import consents_suspend
from driver_records.models import DriverRecord
from driver_records.services import record_service_stop
from jlis_gateway.models import EventStatus
from onestop.models import User
from tests.driver_records.world import consent_for, holder, latest_info

pytestmark = pytest.mark.django_db

ENDED = [
    ConsentStatus.SUPERSEDED,
    ConsentStatus.REVOKED,
    ConsentStatus.EXPIRED,
    ConsentStatus.REJECTED,
    ConsentStatus.SUSPENDED,
    ConsentStatus.WITHDRAWN,
]


@pytest.mark.parametrize("ended", ENDED)
@pytest.mark.parametrize("back_to", [ConsentStatus.ACTIVE, ConsentStatus.PENDING])
def test_an_ended_consent_is_not_set_back_by_any_writer(ended: str, back_to: str):
    record = holder(serial=f"FS-{ended}-{back_to}")
    consent = Consent.objects.get(record=record)
    Consent.objects.filter(pk=consent.pk).update(status=ended)
    with pytest.raises(DatabaseError, match="R9/R15"), transaction.atomic():
        Consent.objects.filter(pk=consent.pk).update(status=back_to)
    consent.refresh_from_db()
    consent.status = back_to
    with pytest.raises(DatabaseError, match="R9/R15"), transaction.atomic():
        consent.save()
    assert Consent.objects.get(pk=consent.pk).status == ended


@pytest.mark.parametrize("to", [s for s in ENDED if s != ConsentStatus.WITHDRAWN])
def test_a_withdrawn_consent_moves_only_to_revoked(to: str):
    """R9: J-LIS had reflected a withdrawn consent before the cancel reached it, so the withdrawal
    becomes a revocation (consent_withdrawal_refused); no other move out of withdrawn."""
    record = holder(serial=f"FS-wd-{to}")
    consent = Consent.objects.get(record=record)
    Consent.objects.filter(pk=consent.pk).update(status=ConsentStatus.WITHDRAWN)
    if to == ConsentStatus.REVOKED:
        Consent.objects.filter(pk=consent.pk).update(status=to)
    else:
        with pytest.raises(DatabaseError, match="R9/R15"), transaction.atomic():
            Consent.objects.filter(pk=consent.pk).update(status=to)
    assert Consent.objects.get(pk=consent.pk).status == (to if to == ConsentStatus.REVOKED else ConsentStatus.WITHDRAWN)


@pytest.mark.parametrize("to", ENDED)
def test_a_consent_in_force_or_waiting_still_ends_every_way_the_rules_allow(to: str):
    record = holder(serial=f"FS-ok-{to}")
    active = Consent.objects.get(record=record)
    pending = consent_for(record, status=ConsentStatus.PENDING)
    Consent.objects.filter(pk__in=[active.pk, pending.pk]).update(status=to)
    assert set(Consent.objects.filter(record=record).values_list("status", flat=True)) == {to}


def test_r15_a_suspended_holder_stays_stopped_whatever_writes_the_rows(supervisor: User):
    """The suspension's own services, then a writer outside them trying to undo it: the consent
    back to active, the record's stop cleared. Both are refused, and J-LIS's next information is
    still not applied (the record keeps its address)."""
    record = holder(serial="FS-R15", address="東京都千代田区一丁目１番")
    with transaction.atomic():
        locked = DriverRecord.objects.select_for_update().get(pk=record.pk)
        consents_suspend(record=locked, actor=supervisor)
        record_service_stop(record=locked, at=timezone.now(), actor=supervisor)
    with pytest.raises(DatabaseError, match="R9/R15"), transaction.atomic():
        Consent.objects.filter(record=record).update(status=ConsentStatus.ACTIVE)
    with pytest.raises(DatabaseError, match="R15"), transaction.atomic():
        DriverRecord.objects.filter(pk=record.pk).update(service_stopped_at=None)
    with pytest.raises(DatabaseError, match="R15"), transaction.atomic():
        DriverRecord.objects.filter(pk=record.pk).update(service_stopped_at=timezone.now())
    event = latest_info(seq=1, old="FS-R15", new="FS-R15", address="大阪府大阪市北区一丁目１番")
    events_apply_pending()
    event.refresh_from_db()
    assert (event.status, event.reason) == (EventStatus.SKIPPED, "consent_suspended")
    assert DriverRecord.objects.get(pk=record.pk).address == "東京都千代田区一丁目１番"
