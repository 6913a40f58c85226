"""Consent events through the applier (R5, R6, R9, R11); stored events as the poller leaves them."""

import base64
import itertools
from datetime import date, timedelta

import pytest
from django.utils import timezone

from applier.batch import events_apply_pending
from consents.models import Channel, ConsentStatus, MynaportalLink
from jlis_gateway.models import EventKind, JlisEvent
from tests.conftest import holder_of_record

from .world import holder

pytestmark = pytest.mark.django_db
_n = itertools.count(1)
NEW_ADDRESS = "東京都府中市多磨町３丁目１番地"


def event(kind: str, *, serial: str, seq: int = 1, **data) -> JlisEvent:
    return JlisEvent.objects.create(
        event_id=f"ce-{next(_n)}", kind=kind, holder_seq=seq, serial=serial, jlis_consent_id=data.get("consent_id", ""),
        occurred_at=timezone.now(), received_at=timezone.now(), payload=data,
    )  # fmt: skip


def test_r05_a_reflected_event_activates_the_pending_consent_with_the_jlis_day():
    record = holder(serial="1001", status=ConsentStatus.PENDING)
    pending = record.consents.get()
    pending.jlis_consent_id, pending.consent_date, pending.last_valid_day = "JC-1", None, None
    pending.save()
    event(EventKind.CONSENT_REFLECTED, serial="1001", consent_id="JC-1", consent_date="2026-11-27")
    result = events_apply_pending()
    pending.refresh_from_db()
    assert result.applied == 1
    assert (pending.status, pending.consent_date, pending.last_valid_day) == (
        ConsentStatus.ACTIVE, date(2026, 11, 27), date(2036, 11, 27),
    )  # fmt: skip


def test_r09_after_a_revocation_from_jpki_mobile_the_move_is_not_applied():
    record = holder(serial="1001")
    consent = record.consents.get()
    consent.jlis_consent_id = "JC-2"
    consent.save()
    event(EventKind.CONSENT_REVOKED, serial="1001", seq=1, consent_id="JC-2", channel=Channel.JPKI_MOBILE)
    move = JlisEvent.objects.create(
        event_id="mv-1", kind=EventKind.LATEST_INFO, holder_seq=2, serial="1001", occurred_at=timezone.now(),
        received_at=timezone.now(),
        payload={"old_serial": "1001", "new_serial": "2002", "not_after": "2031-05-17T14:59:59+00:00",
                 "address": "大阪府門真市１"},
    )  # fmt: skip
    events_apply_pending()
    consent.refresh_from_db()
    move.refresh_from_db()
    assert consent.status == ConsentStatus.REVOKED
    assert (move.status, move.reason) == ("skipped", "consent_revoked")


def test_an_event_for_a_consent_we_do_not_know_yet_waits(settings):
    reflected = event(EventKind.CONSENT_REFLECTED, serial="1001", consent_id="JC-unknown", consent_date="2026-11-27")
    assert events_apply_pending().waiting == 1
    settings.JLIS_UNKNOWN_SERIAL_GRACE_SECONDS = 0
    events_apply_pending()
    reflected.refresh_from_db()
    assert (reflected.status, reflected.reason) == ("skipped", "unknown_consent")


def test_r11_a_mynaportal_registration_applies_its_certificate_data_at_once(jpki_hierarchy, jpki_card_key, clerk):
    record = holder(serial="old-1", status=ConsentStatus.EXPIRED, address="東京都千代田区１")
    record.cert_not_after = timezone.now() - timedelta(days=1)  # expired: J-LIS had stopped (R11)
    record.save()
    # The holder moved meanwhile; the new certificate carries the new address.
    card = jpki_hierarchy.issue_card(holder_of_record(record, address=NEW_ADDRESS), key=jpki_card_key)
    MynaportalLink.objects.create(record=record, linked_at=timezone.now(), linked_by=clerk, cert_serial=card.serial)
    event(
        EventKind.CONSENT_REGISTERED, serial=card.serial, seq=5, consent_id="JC-MP", items=["address"],
        consent_date="2026-11-26", certificate=base64.b64encode(card.certificate_der).decode(),
    )  # fmt: skip
    result = events_apply_pending()
    record.refresh_from_db()
    assert result.applied == 1
    assert (record.address, record.cert_serial, record.jlis_seq) == (NEW_ADDRESS, card.serial, 5)
    active = record.consents.get(status=ConsentStatus.ACTIVE)
    assert active.channel == Channel.MYNAPORTAL and active.items == ["address"]
    assert record.changes.filter(field="address", new_value=NEW_ADDRESS, jlis_event_id__startswith="ce-").exists()


def test_r04_a_mynaportal_registration_without_linkage_is_not_applied(issue_card_for):
    record = holder(serial="old-2", status=ConsentStatus.EXPIRED)
    card = issue_card_for(record)
    record.cert_serial = card.serial
    record.save()
    registered = event(
        EventKind.CONSENT_REGISTERED, serial=card.serial, consent_id="JC-MP2", items=["address"],
        consent_date="2026-11-26", certificate=base64.b64encode(card.certificate_der).decode(),
    )  # fmt: skip
    events_apply_pending()
    registered.refresh_from_db()
    assert (registered.status, registered.reason) == ("skipped", "no_mynaportal_link")
    assert not record.consents.filter(status=ConsentStatus.ACTIVE).exists()
