"""The feed state every holder page shows, and recording a holding-status change (R11, R12, R15)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from consents.feed import FeedState, record_feed
from consents.models import ConsentStatus, RevokedCertificate
from tests.factories import DriverRecordFactory

from .world import consent_for, holder, latest_info

pytestmark = pytest.mark.django_db


def test_feed_states():
    assert record_feed(DriverRecordFactory()).state == FeedState.NONE
    assert record_feed(holder(serial="1")).state == FeedState.ACTIVE
    assert record_feed(holder(serial="2", status=ConsentStatus.PENDING)).state == FeedState.PENDING
    assert record_feed(holder(serial="3", status=ConsentStatus.REVOKED)).state == FeedState.REVOKED
    assert record_feed(holder(serial="4", status=ConsentStatus.SUSPENDED)).state == FeedState.SUSPENDED
    assert record_feed(holder(serial="5", status=ConsentStatus.EXPIRED)).state == FeedState.EXPIRED
    past = timezone.localdate() - timedelta(days=1)
    assert record_feed(holder(serial="6", last_valid_day=past)).state == FeedState.EXPIRED


def test_r12_feed_stops_for_a_two_card_holder():
    assert record_feed(holder(serial="1", holding_status="licence_both")).state == FeedState.STOPPED_HOLDING_STATUS


def test_r11_feed_stops_when_the_linked_certificate_has_expired():
    record = holder(serial="1")
    record.cert_not_after = timezone.now() - timedelta(seconds=1)
    record.save()
    assert record_feed(record).state == FeedState.STOPPED_CERTIFICATE_EXPIRED


def test_r10_feed_waits_for_a_new_certificate_after_a_revocation():
    record = holder(serial="1")
    RevokedCertificate.objects.create(
        issuer_key_id=record.cert_issuer_key_id, serial="1", revoked_at=timezone.now(), reason="superseded"
    )
    assert record_feed(record).state == FeedState.WAITING_CERTIFICATE


def test_r12_clerk_records_a_plastic_licence_and_the_feed_stops_at_once(client, clerk):
    record = holder(serial="1")
    client.force_login(clerk)
    url = reverse("counter:holding-status", args=[record.pk])
    data = {"holding_status": "licence_both", "version": record.version, "reason": "交付", "confirmed": "1"}
    response = client.post(url, data, follow=True)
    body = response.content.decode()
    assert "保有状況を記録しました" in body
    assert str(FeedState.STOPPED_HOLDING_STATUS.label) in body or "停止" in body
    record.refresh_from_db()
    assert record.holding_status == "licence_both" and record.feed_stopped_at is not None


def test_a_stale_holding_status_form_is_refused_with_a_clear_message(client, clerk):
    record = holder(serial="1")
    client.force_login(clerk)
    url = reverse("counter:holding-status", args=[record.pk])
    client.post(url, {"holding_status": "licence_both", "version": 1, "reason": "交付", "confirmed": "1"})
    stale = {"holding_status": "licence_plastic_only", "version": 1, "reason": "返納", "confirmed": "1"}
    response = client.post(url, stale, follow=True)
    assert "他の職員が変更しました" in response.content.decode()
    record.refresh_from_db()
    assert record.holding_status == "licence_both"


def test_auditor_cannot_record_a_holding_status(client, auditor):
    record = holder(serial="1")
    client.force_login(auditor)
    response = client.post(
        reverse("counter:holding-status", args=[record.pk]), {"holding_status": "licence_both", "version": 1}
    )
    assert response.status_code == 403


def test_holder_page_lists_skipped_events_with_their_reason(client, clerk):
    from applier.batch import events_apply_pending

    record = holder(serial="1", holding_status="licence_both")
    latest_info(seq=1, old="1", new="2", address="大阪府門真市１")
    events_apply_pending()
    client.force_login(clerk)
    body = client.get(reverse("counter:record", args=[record.pk])).content.decode()
    assert "マイナ免許証のみ / マイナ経歴証明書のみではありませんでした" in body


def test_the_active_consent_governs_even_behind_twenty_newer_superseded_and_rejected_ones():
    # The holder page reads the latest twenty consents once; an older active one is read for.
    record = holder(serial="1")  # its consent: active, thirty days old
    for n in range(20):
        status = ConsentStatus.SUPERSEDED if n % 2 else ConsentStatus.REJECTED
        consent_for(record, status=status, created_at=timezone.now() - timedelta(days=n))
    record = type(record).objects.get(pk=record.pk)
    feed = record_feed(record)
    assert feed.state == FeedState.ACTIVE and feed.consent.status == ConsentStatus.ACTIVE
