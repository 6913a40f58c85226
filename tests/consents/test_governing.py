"""Which consent governs a record (R6) is one answer for every reader: the feed state, the holder
page, the counter API and the applier, however many consents the record has.

R5/R6: a consent governs from the day J-LIS reflects it; a new registration J-LIS has not
reflected yet restarts nothing, so the active consent governs meanwhile."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from applier.batch import events_apply_pending
from consents.feed import FeedState, record_feed
from consents.models import ConsentStatus
from consents.selectors import consent_status
from consents.services import consent_reflect, consent_register, consent_reject
from driver_records.models import DriverRecord
from tests.driver_records.world import latest_info

from .conftest import signed

pytestmark = pytest.mark.django_db

NEWER_PENDING = 25  # more than any window a reader could look at


@pytest.fixture
def active_behind_pending(register, record, make_statement, issue_card_for, clerk):
    """An active consent for the address, then many newer registrations J-LIS has not reflected."""
    active = register(record, ("address",))
    consent_reflect(consent_id=active.pk, consent_date=date(2026, 4, 1))
    card = issue_card_for(record)
    for _ in range(NEWER_PENDING):
        statement = make_statement(record, ("name",))
        consent_register(statement_id=statement.pk, actor=clerk, **signed(statement, card))
    record.refresh_from_db()
    return record, active


def test_r06_the_feed_follows_an_active_consent_behind_many_newer_pending_ones(active_behind_pending):
    record, active = active_behind_pending
    feed = record_feed(DriverRecord.objects.get(pk=record.pk))
    assert (feed.state, feed.consent) == (FeedState.ACTIVE, active)


def test_r06_the_holder_page_and_its_selector_show_the_active_consent_behind_newer_pending_ones(
    active_behind_pending, client, clerk
):
    record, active = active_behind_pending
    status = consent_status(record=record)
    assert (status.current, status.in_force) == (active, True)
    assert all(c.status == ConsentStatus.PENDING for c in status.pending) and active not in status.pending

    client.force_login(clerk)
    body = client.get(reverse("counter:record", args=[record.pk])).content.decode()
    section = body[body.index('data-testid="consent-status"') :]
    assert active.reference in section[: section.index("</dl>")]


def test_r06_the_api_reports_the_active_consent_behind_newer_pending_ones(active_behind_pending, client, auditor):
    record, active = active_behind_pending
    client.force_login(auditor)
    status = client.get(f"/api/v1/records/{record.pk}/consent-status/").json()
    assert (status["status"], status["consent"]["reference"], status["feed_state"]) == (
        "active",
        active.reference,
        "active",
    )


def test_r06_the_applier_applies_under_the_active_consent_behind_newer_pending_ones(active_behind_pending):
    record, _active = active_behind_pending
    name = record.name
    latest_info(seq=5, old=record.cert_serial, new="S-NEW", address="東京都府中市多磨町３丁目１番地", name="佐藤　花子")
    result = events_apply_pending()
    assert (result.applied, result.skipped) == (1, 0)
    record.refresh_from_db()
    # R2: the active consent names the address only; the pending ones' name is not in force yet.
    assert (record.address, record.name, record.cert_serial) == ("東京都府中市多磨町３丁目１番地", name, "S-NEW")


def test_a_newer_consent_j_lis_refused_is_shown_with_its_reason_beside_the_governing_one(
    register, record, client, clerk
):
    active = register(record, ("address",))
    consent_reflect(consent_id=active.pk, consent_date=date(2026, 4, 1))
    refused = register(record, ("name",))
    consent_reject(consent_id=refused.pk, reason="記録なし")

    status = consent_status(record=record)
    assert (status.current, status.rejected) == (active, [refused])
    client.force_login(clerk)
    body = client.get(reverse("counter:record", args=[record.pk])).content.decode()
    listed = body[body.index('data-testid="rejected"') :]
    assert refused.reference in listed and "記録なし" in listed


def test_a_consent_revoked_after_the_first_read_stops_the_feed_of_the_same_record(active_behind_pending, supervisor):
    """Nothing the first read found is pinned on the record: the next read sees the revocation,
    and no update flows under it (R9)."""
    from consents.governing import governing_consent, record_with_consents
    from consents.services import consent_revoke

    record, active = active_behind_pending
    assert governing_consent(record).pk == active.pk

    consent_revoke(consent_id=active.pk, actor=supervisor, reason="本人の申出")

    after = governing_consent(record)
    assert after is None or after.pk != active.pk or after.status == ConsentStatus.REVOKED
    assert record_feed(record).state != FeedState.ACTIVE
    loaded = record_with_consents(DriverRecord.objects.get(pk=record.pk))
    assert record_feed(loaded).state == record_feed(record).state
