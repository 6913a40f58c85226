"""After registration: reflected (R5), superseded (R6), untouched by the certificate (R7),
revoked (R9), rejected, expired; the record linked to the certificate (R13)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from consents.errors import ConsentRefused
from consents.models import Channel, Consent, ConsentStatus, RevokedCertificate
from consents.selectors import consent_in_force, consent_status
from consents.services import (
    consent_expire_due,
    consent_reflect,
    consent_reject,
    consent_revoke,
    consent_revoke_elsewhere,
)
from driver_records.models import RecordChange
from jlis_gateway.models import OutboxKind, OutboxMessage
from onestop.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_r05_consent_is_pending_until_jlis_reflects_it_on_its_own_day(register, record):
    consent = register(record)
    assert consent.status == ConsentStatus.PENDING
    assert consent_status(record=record).in_force is False

    # Registered today at the counter; J-LIS reflects it on a later day: that day is the consent date.
    outcome = consent_reflect(consent_id=consent.pk, consent_date=date(2024, 2, 29), jlis_consent_id="J-1")

    assert outcome.applied
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.ACTIVE
    assert (consent.consent_date, consent.first_day, consent.last_valid_day) == (
        date(2024, 2, 29),
        date(2024, 3, 1),
        date(2034, 2, 28),
    )
    assert consent.jlis_consent_id == "J-1"
    assert consent_in_force(consent, at=datetime(2034, 2, 28, 14, 59, 59, tzinfo=UTC))
    assert not consent_in_force(consent, at=datetime(2034, 2, 28, 15, 0, tzinfo=UTC))


def test_r05_reflecting_twice_changes_nothing(register, record):
    consent = register(record)
    consent_reflect(consent_id=consent.pk, consent_date=date(2026, 4, 1))
    events = AuditEvent.objects.count()
    again = consent_reflect(consent_id=consent.pk, consent_date=date(2026, 4, 1))
    assert (again.applied, again.reason) == (False, "duplicate")
    assert AuditEvent.objects.count() == events


def test_r13_reflection_links_the_record_to_the_consents_certificate(register, record, jpki_hierarchy):
    consent = register(record)
    consent_reflect(consent_id=consent.pk, consent_date=date(2026, 4, 1), event_id="ev-1")
    record.refresh_from_db()
    assert (record.cert_serial, record.cert_issuer_key_id, record.cert_not_after) == (
        consent.cert_serial,
        jpki_hierarchy.signing_ca.key_id,
        consent.cert_not_after,
    )
    change = RecordChange.objects.get(record=record, field="cert_serial")
    assert (change.new_value, change.jlis_event_id, change.source) == (consent.cert_serial, "ev-1", "jlis")
    assert AuditEvent.objects.filter(action="record.link_certificate", record_number=record.number).exists()


def test_r06_a_new_consent_supersedes_the_active_one_and_restarts_the_ten_years(register, record):
    first = register(record, ("address",))
    consent_reflect(consent_id=first.pk, consent_date=date(2026, 4, 1))
    second = register(record, ("address", "name"))
    # While the new one is pending, the old one still holds.
    assert consent_status(record=record).current == first
    assert consent_status(record=record).pending == [second]

    consent_reflect(consent_id=second.pk, consent_date=date(2030, 7, 15))

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.superseded_by) == (ConsentStatus.SUPERSEDED, second)
    assert (second.status, second.items) == (ConsentStatus.ACTIVE, ["address", "name"])
    assert second.last_valid_day == date(2040, 7, 15)
    assert Consent.objects.filter(record=record, status=ConsentStatus.ACTIVE).count() == 1
    record.refresh_from_db()
    assert record.cert_serial == second.cert_serial


def test_r06_the_consent_jlis_dated_later_governs_whichever_we_registered_first(register, record):
    # The terms: the period restarts from the procedure done again, whose consent date is the day
    # J-LIS reflects it (R5). J-LIS reflected the first registration a day after the second.
    first, second = register(record, ("address",)), register(record, ("name",))
    consent_reflect(consent_id=second.pk, consent_date=date(2026, 4, 2), holder_seq=5)
    consent_reflect(consent_id=first.pk, consent_date=date(2026, 4, 3), holder_seq=6)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.last_valid_day) == (ConsentStatus.ACTIVE, date(2036, 4, 3))
    assert (second.status, second.superseded_by) == (ConsentStatus.SUPERSEDED, first)
    record.refresh_from_db()
    assert record.cert_serial == first.cert_serial


def test_r06_a_consent_jlis_dated_earlier_that_reaches_us_late_is_superseded_at_once(register, record):
    first, second = register(record, ("address",)), register(record, ("name",))
    consent_reflect(consent_id=second.pk, consent_date=date(2026, 4, 3), holder_seq=7)
    late = consent_reflect(consent_id=first.pk, consent_date=date(2026, 4, 2), holder_seq=6)
    assert late.applied  # the consent is recorded with J-LIS's date, and governs nothing
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.superseded_by, first.consent_date) == (
        ConsentStatus.SUPERSEDED,
        second,
        date(2026, 4, 2),
    )
    assert second.status == ConsentStatus.ACTIVE
    assert consent_status(record=record).current == second


def test_r06_on_the_same_consent_date_jlis_order_decides(register, record):
    first, second = register(record), register(record)
    consent_reflect(consent_id=first.pk, consent_date=date(2026, 4, 2), holder_seq=9)
    consent_reflect(consent_id=second.pk, consent_date=date(2026, 4, 2), holder_seq=8)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status, second.superseded_by) == (
        ConsentStatus.ACTIVE,
        ConsentStatus.SUPERSEDED,
        first,
    )


def test_r06_a_newer_consent_since_revoked_still_outranks_one_dated_before_it(register, record, supervisor):
    first, second = register(record), register(record)
    consent_reflect(consent_id=second.pk, consent_date=date(2026, 4, 3), holder_seq=7)
    consent_revoke(consent_id=second.pk, actor=supervisor, reason="本人からの申出")
    consent_reflect(consent_id=first.pk, consent_date=date(2026, 4, 2), holder_seq=6)
    first.refresh_from_db()
    assert (first.status, first.superseded_by) == (ConsentStatus.SUPERSEDED, second)
    assert consent_status(record=record).current == second  # revoked: nothing governs the feed


def test_r07_certificate_expiring_or_revoked_leaves_the_consent_as_it_is(register, record, jpki_hierarchy):
    consent = register(record)
    consent_reflect(consent_id=consent.pk, consent_date=date(2026, 4, 1))
    RevokedCertificate.objects.create(
        issuer_key_id=consent.cert_issuer_key_id, serial=consent.cert_serial, revoked_at=datetime.now(UTC)
    )
    after_certificate_expiry = consent.cert_not_after + timedelta(days=30)
    assert consent_expire_due(today=after_certificate_expiry.date()) == 0

    consent.refresh_from_db()
    assert consent.status == ConsentStatus.ACTIVE
    assert consent_in_force(consent, at=after_certificate_expiry)


def test_consent_expires_the_day_after_its_last_valid_day_in_japan(register, record):
    consent = register(record)
    consent_reflect(consent_id=consent.pk, consent_date=date(2023, 5, 18))
    assert consent_expire_due(today=date(2033, 5, 18)) == 0
    assert consent_expire_due(today=date(2033, 5, 19)) == 1
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.EXPIRED
    assert AuditEvent.objects.get(action="consent.expire").subject_id == str(consent.pk)
    assert consent_expire_due(today=date(2033, 5, 20)) == 0


def test_rejected_consent_never_becomes_active(register, record):
    consent = register(record)
    assert consent_reject(consent_id=consent.pk, reason="記録なし").applied
    late = consent_reflect(consent_id=consent.pk, consent_date=date(2026, 4, 1))
    assert (late.applied, late.reason) == (False, "consent_rejected")
    consent.refresh_from_db()
    assert (consent.status, consent.rejected_reason) == (ConsentStatus.REJECTED, "記録なし")


def test_r09_a_clerk_cannot_revoke(register, record, clerk):
    consent = register(record)
    with pytest.raises(ConsentRefused) as caught:
        consent_revoke(consent_id=consent.pk, actor=clerk, reason="本人の申出")
    assert caught.value.code == "forbidden"
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.PENDING
    assert not OutboxMessage.objects.filter(kind=OutboxKind.REVOKE_CONSENT).exists()


def test_r09_a_supervisor_revokes_with_a_reason_and_jlis_is_told(register, record, supervisor):
    consent = register(record)
    consent_reflect(consent_id=consent.pk, consent_date=date(2026, 4, 1))

    consent_revoke(consent_id=consent.pk, actor=supervisor, reason="  本人の申出により取消  ")

    consent.refresh_from_db()
    assert consent.status == ConsentStatus.REVOKED
    assert (consent.revoked_by, consent.revoked_channel, consent.revoked_reason) == (
        supervisor,
        Channel.COUNTER,
        "本人の申出により取消",
    )
    assert consent.revoked_at is not None
    assert OutboxMessage.objects.filter(kind=OutboxKind.REVOKE_CONSENT, consent=consent).count() == 1
    assert consent_status(record=record).status == "revoked"
    assert not consent_status(record=record).in_force
    assert AuditEvent.objects.get(action="consent.revoke").actor == supervisor


@pytest.mark.parametrize(
    ("reason", "code"),
    [("   ", "reason_required"), ("x" * 501, "reason_too_long"), ("123456789018", "contains_my_number")],
)
def test_r09_revocation_needs_a_proper_reason(register, record, supervisor, reason, code):
    consent = register(record)
    with pytest.raises(ConsentRefused) as caught:
        consent_revoke(consent_id=consent.pk, actor=supervisor, reason=reason)
    assert caught.value.code == code
    assert Consent.objects.get(pk=consent.pk).status == ConsentStatus.PENDING


def test_r09_after_revocation_nothing_more_is_applied(register, record, supervisor):
    consent = register(record)
    consent_revoke(consent_id=consent.pk, actor=supervisor, reason="本人の申出")
    late = consent_reflect(consent_id=consent.pk, consent_date=date(2026, 4, 1))
    assert (late.applied, late.reason) == (False, "consent_revoked")
    consent.refresh_from_db()
    assert (consent.status, consent.consent_date) == (ConsentStatus.REVOKED, None)
    record.refresh_from_db()
    assert record.cert_serial == ""  # never linked
    with pytest.raises(ConsentRefused) as caught:
        consent_revoke(consent_id=consent.pk, actor=supervisor, reason="もう一度")
    assert caught.value.code == "not_revocable"


def test_r09_supervisor_of_another_prefecture_cannot_revoke(register, record, osaka_office):
    from onestop.roles import Role
    from tests.conftest import _staff

    consent = register(record)
    osaka_supervisor = _staff("erin", Role.SUPERVISOR, osaka_office)
    with pytest.raises(ConsentRefused) as caught:
        consent_revoke(consent_id=consent.pk, actor=osaka_supervisor, reason="申出")
    assert caught.value.code == "wrong_prefecture"


def test_r09_revoked_through_jpki_mobile_needs_no_linkage(register, record):
    consent = register(record)
    consent_reflect(consent_id=consent.pk, consent_date=date(2026, 4, 1))
    at = datetime(2026, 5, 1, 1, 0, tzinfo=UTC)
    outcome = consent_revoke_elsewhere(consent_id=consent.pk, channel=Channel.JPKI_MOBILE, revoked_at=at)
    assert outcome.applied
    consent.refresh_from_db()
    assert (consent.status, consent.revoked_channel, consent.revoked_at) == (ConsentStatus.REVOKED, "jpki_mobile", at)
    assert not OutboxMessage.objects.filter(kind=OutboxKind.REVOKE_CONSENT).exists()  # J-LIS already knows
