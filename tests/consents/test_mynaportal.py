"""R4, R13: Mynaportal linkage recorded at the counter; consents and revocations through
Mynaportal count only for a linked record, otherwise the reason is kept and shown."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from consents.api.serializers import ConsentSerializer
from consents.errors import ConsentRefused
from consents.models import Channel, Consent, ConsentStatus, MynaportalLink
from consents.selectors import consent_for_jlis, consent_status
from consents.services import (
    consent_reflect,
    consent_register_from_mynaportal,
    consent_revoke_elsewhere,
    mynaportal_link_record,
    record_for_mynaportal,
)
from onestop.models import AuditEvent
from tests.conftest import holder_of_record

pytestmark = pytest.mark.django_db

NEW_CARD_NOT_AFTER = datetime(2031, 5, 17, 14, 59, 59, tzinfo=UTC)


@pytest.fixture
def linked_record(register, record, clerk):
    """A record with an active counter consent and Mynaportal linkage recorded."""
    consent = register(record)
    consent_reflect(consent_id=consent.pk, consent_date=date(2026, 4, 1))
    mynaportal_link_record(record_id=record.pk, actor=clerk)
    record.refresh_from_db()
    return record


@pytest.fixture
def new_card(issue_card_for, record):
    """The holder's new signing certificate, used to consent through Mynaportal."""
    return issue_card_for(record, not_after=NEW_CARD_NOT_AFTER)


def from_mynaportal(record, card, **overrides):
    values = {
        "record_id": record.pk,
        "items": ["address", "birth_date"],
        "consent_date": date(2027, 1, 10),
        "certificate_der": card.certificate_der,
        "jlis_consent_id": "MP-1",
        "event_id": "ev-mp-1",
    }
    return consent_register_from_mynaportal(**{**values, **overrides})


def test_r13_linkage_records_when_who_and_the_serial(linked_record, clerk):
    link = MynaportalLink.objects.get(record=linked_record)
    assert (link.linked_by, link.cert_serial) == (clerk, linked_record.cert_serial)
    assert link.linked_at is not None
    assert AuditEvent.objects.get(action="mynaportal.link").serial == linked_record.cert_serial
    assert record_for_mynaportal(serial=linked_record.cert_serial) == linked_record


def test_r13_linkage_needs_a_linked_certificate(record, clerk, terms):
    with pytest.raises(ConsentRefused) as caught:
        mynaportal_link_record(record_id=record.pk, actor=clerk)
    assert caught.value.code == "no_linked_certificate"
    assert not MynaportalLink.objects.exists()


def test_r04_mynaportal_consent_without_linkage_is_not_applied_and_the_reason_is_shown(register, record, new_card):
    consent = register(record)
    consent_reflect(consent_id=consent.pk, consent_date=date(2026, 4, 1))
    record.refresh_from_db()

    outcome = from_mynaportal(record, new_card)

    assert (outcome.applied, outcome.reason) == (False, "no_mynaportal_link")
    assert not Consent.objects.filter(channel=Channel.MYNAPORTAL).exists()
    assert Consent.objects.get(pk=consent.pk).status == ConsentStatus.ACTIVE
    shown = consent_status(record=record).not_applied
    assert [e.new_values["reason"] for e in shown] == ["no_mynaportal_link"]


def test_r04_mynaportal_consent_with_linkage_is_active_at_once_and_supersedes(linked_record, terms, new_card):
    previous = Consent.objects.get(record=linked_record, status=ConsentStatus.ACTIVE)

    outcome = from_mynaportal(linked_record, new_card)

    assert outcome.applied
    consent = outcome.consent
    assert (consent.channel, consent.status, consent.items) == (
        Channel.MYNAPORTAL,
        ConsentStatus.ACTIVE,
        ["address", "birth_date"],
    )
    assert (consent.consent_date, consent.last_valid_day) == (date(2027, 1, 10), date(2037, 1, 10))
    assert consent.terms_version == terms  # R17: the terms in effect on its consent date
    assert ConsentSerializer(consent).data["office"] is None  # no counter: the API still reads it
    previous.refresh_from_db()
    assert (previous.status, previous.superseded_by) == (ConsentStatus.SUPERSEDED, consent)
    linked_record.refresh_from_db()
    assert (linked_record.cert_serial, linked_record.cert_not_after) == (new_card.serial, NEW_CARD_NOT_AFTER)
    assert bytes(consent.certificate) == new_card.certificate_der
    again = from_mynaportal(linked_record, new_card)
    assert (again.applied, again.reason) == (False, "duplicate")


def test_r06_a_mynaportal_consent_dated_before_the_active_one_reaches_us_late_and_governs_nothing(
    linked_record, new_card
):
    # The counter consent J-LIS reflected on 2026-04-01 (linked_record) is the newer one: the
    # holder had consented through Mynaportal on 2026-03-31, and that event reaches us only now.
    active = Consent.objects.get(record=linked_record, status=ConsentStatus.ACTIVE)
    serial = linked_record.cert_serial

    outcome = from_mynaportal(linked_record, new_card, consent_date=date(2026, 3, 31))

    assert outcome.applied  # recorded with J-LIS's date, superseded at once
    late = outcome.consent
    assert (late.status, late.superseded_by, late.consent_date) == (ConsentStatus.SUPERSEDED, active, date(2026, 3, 31))
    active.refresh_from_db()
    assert active.status == ConsentStatus.ACTIVE
    assert consent_status(record=linked_record).current == active
    linked_record.refresh_from_db()
    assert linked_record.cert_serial == serial  # the late consent's certificate is not linked


def test_r01_mynaportal_consent_for_an_ineligible_holder_is_not_applied(linked_record, new_card):
    type(linked_record).objects.filter(pk=linked_record.pk).update(holding_status="licence_both")
    linked_record.refresh_from_db()
    outcome = from_mynaportal(linked_record, new_card)
    assert (outcome.applied, outcome.reason) == (False, "not_eligible")


@pytest.mark.parametrize("status", [ConsentStatus.ACTIVE, ConsentStatus.PENDING])
def test_r09_a_mynaportal_revocation_jlis_reports_is_honoured_without_a_local_linkage_row(register, record, status):
    # R9: J-LIS has revoked already; whether we recorded the holder's Mynaportal linkage is ours.
    consent = register(record)
    if status == ConsentStatus.ACTIVE:
        consent_reflect(consent_id=consent.pk, consent_date=date(2026, 4, 1))
    outcome = consent_revoke_elsewhere(
        consent_id=consent.pk, channel=Channel.MYNAPORTAL, revoked_at=datetime(2026, 5, 1, tzinfo=UTC)
    )
    assert (outcome.applied, outcome.reason) == (True, "")
    revoked = Consent.objects.get(pk=consent.pk)
    assert (revoked.status, revoked.revoked_channel) == (ConsentStatus.REVOKED, Channel.MYNAPORTAL)
    assert consent_status(record=record).not_applied == []


def test_r09_mynaportal_revocation_with_linkage_is_applied(linked_record):
    consent = Consent.objects.get(record=linked_record, status=ConsentStatus.ACTIVE)
    outcome = consent_revoke_elsewhere(
        consent_id=consent.pk, channel=Channel.MYNAPORTAL, revoked_at=datetime(2026, 5, 1, tzinfo=UTC)
    )
    assert outcome.applied
    consent.refresh_from_db()
    assert (consent.status, consent.revoked_channel) == (ConsentStatus.REVOKED, Channel.MYNAPORTAL)


def test_mynaportal_consent_with_a_certificate_we_do_not_trust_is_not_applied(
    linked_record, foreign_hierarchy, jpki_card_key
):
    foreign = foreign_hierarchy.issue_card(holder_of_record(linked_record), key=jpki_card_key)
    outcome = from_mynaportal(linked_record, foreign)
    assert (outcome.applied, outcome.reason) == (False, "chain_not_trusted")
    assert not Consent.objects.filter(channel=Channel.MYNAPORTAL).exists()


def test_the_applier_finds_a_consent_by_its_jlis_id(register, record):
    consent = register(record)
    consent_reflect(consent_id=consent.pk, consent_date=date(2026, 4, 1), jlis_consent_id="jc_1")
    assert consent_for_jlis(jlis_consent_id="jc_1") == consent
    assert consent_for_jlis(jlis_consent_id="") is None
