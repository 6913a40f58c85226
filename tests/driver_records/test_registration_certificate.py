"""The certificate as evidence (R3): a Mynaportal registration's event carries the holder's whole
signing certificate; once the applier is done with it, applied or not, the certificate is on the
consent (when one was made) and nowhere in the event (docs/personal-data.md)."""

from __future__ import annotations

import base64
import itertools
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from applier.batch import events_apply_pending
from consents.models import Channel, Consent, ConsentStatus, MynaportalLink
from jlis_gateway.models import EventKind, JlisEvent
from safeguards.services.suspension import suspension_confirm, suspension_propose
from tests.conftest import holder_of_record
from tests.support.one_by_one import events_apply_one_by_one

from .world import consent_for, holder

pytestmark = pytest.mark.django_db
_n = itertools.count(1)
NEW_ADDRESS = "東京都府中市多磨町３丁目１番地"
APPLY = {"batch": events_apply_pending, "single": events_apply_one_by_one}


def registration(card, *, consent_id: str) -> JlisEvent:
    return JlisEvent.objects.create(
        event_id=f"rc-{next(_n)}", kind=EventKind.CONSENT_REGISTERED, holder_seq=5, serial=card.serial,
        jlis_consent_id=consent_id, occurred_at=timezone.now(), received_at=timezone.now(),
        payload={"consent_id": consent_id, "items": ["address"], "consent_date": timezone.localdate().isoformat(),
                 "certificate": base64.b64encode(card.certificate_der).decode(), "previous_serials": []},
    )  # fmt: skip


def holds_a_certificate(event: JlisEvent) -> bool:
    with connection.cursor() as cursor:  # the stored row, not the ORM's reading of it
        if connection.vendor == "postgresql":
            cursor.execute("SELECT payload ? 'certificate' FROM jlis_gateway_jlisevent WHERE id = %s", [event.pk])
        else:
            sql = "SELECT json_type(payload, '$.certificate') IS NOT NULL FROM jlis_gateway_jlisevent WHERE id = %s"
            cursor.execute(sql, [event.pk])
        return bool(cursor.fetchone()[0])


@pytest.fixture
def linked(jpki_hierarchy, jpki_card_key, clerk):
    """A holder whose certificate expired (J-LIS had stopped, R11), linked to Mynaportal, and the
    new card they register with."""
    record = holder(serial="old-1", status=ConsentStatus.EXPIRED, address="東京都千代田区１")
    record.cert_not_after = timezone.now() - timedelta(days=1)
    record.save()
    card = jpki_hierarchy.issue_card(holder_of_record(record, address=NEW_ADDRESS), key=jpki_card_key)
    MynaportalLink.objects.create(record=record, linked_at=timezone.now(), linked_by=clerk, cert_serial=card.serial)
    return record, card


@pytest.mark.parametrize("path", list(APPLY))
def test_r03_an_applied_registration_keeps_its_certificate_on_the_consent_and_not_in_the_event(linked, path):
    record, card = linked
    event = registration(card, consent_id="JC-MP1")
    APPLY[path]()
    event.refresh_from_db()
    consent = record.consents.get(status=ConsentStatus.ACTIVE)
    assert (event.status, consent.channel) == ("applied", Channel.MYNAPORTAL)
    assert bytes(consent.certificate) == card.certificate_der  # the evidence, in its one place
    assert not holds_a_certificate(event)
    record.refresh_from_db()
    assert record.address == NEW_ADDRESS  # read from the certificate before it left the event (R11)


@pytest.mark.parametrize("path", list(APPLY))
@pytest.mark.parametrize("outcome", ["no_mynaportal_link", "unknown_serial", "duplicate", "service_suspended"])
def test_r03_r15_a_registration_not_applied_keeps_no_certificate_either(
    linked, path, outcome, supervisor, second_supervisor
):
    record, card = linked
    if outcome == "no_mynaportal_link":
        MynaportalLink.objects.filter(record=record).delete()
        record.cert_serial = card.serial
        record.save()
    elif outcome == "unknown_serial":
        MynaportalLink.objects.filter(record=record).delete()
    elif outcome == "duplicate":
        Consent.objects.filter(pk=consent_for(record).pk).update(jlis_consent_id="JC-MP2")
    else:
        proposal = suspension_propose(
            record_id=record.pk, actor=supervisor, reason_code="misuse", grounds="evident", note="不正利用"
        )
        suspension_confirm(request_id=proposal.pk, actor=second_supervisor)
    event = registration(card, consent_id="JC-MP2")
    APPLY[path]()
    event.refresh_from_db()
    assert (event.status, event.reason) == ("skipped", outcome)
    assert not holds_a_certificate(event)
    assert not Consent.objects.filter(certificate=card.certificate_der).exists()  # nothing made of it


def test_the_admins_event_page_shows_no_certificate_for_an_applied_registration(linked, auditor, client):
    _record, card = linked
    event = registration(card, consent_id="JC-MP3")
    events_apply_pending()
    client.force_login(auditor)
    page = client.get(reverse("admin:jlis_gateway_jlisevent_change", args=[event.pk]))
    assert page.status_code == 200
    encoded = base64.b64encode(card.certificate_der).decode()
    assert event.event_id in page.content.decode()  # the page is the event's
    assert encoded[100:160] not in page.content.decode()
