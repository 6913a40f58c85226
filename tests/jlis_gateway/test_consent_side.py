"""The gateway reaches the consents app only through the consent side consents registers at
start-up (issue 21). Without one the gateway fails closed: the door stores nothing (R2: J-LIS's
latest information never goes in unfiltered) and the relay sends nothing whose outcome it could
not hand on. Each test shows the same step going through once the side is back."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from jlis_gateway import consent_side
from jlis_gateway.models import JlisEvent, OutboxKind, OutboxMessage, OutboxStatus, PollState
from jlis_gateway.outbox import outbox_enqueue
from jlis_gateway.services.poll import events_poll
from jlis_gateway.services.relay import outbox_send

pytestmark = pytest.mark.django_db


def test_without_a_consent_side_the_door_refuses_to_store_the_page(jlis_simulator, monkeypatch):
    jlis_simulator.generate(count=20, holders=4)
    monkeypatch.setattr(consent_side, "_registered", None)
    with pytest.raises(ImproperlyConfigured, match="no consent side is registered"):
        events_poll()
    assert not JlisEvent.objects.exists()
    assert PollState.objects.get().cursor == ""  # the page is read again, not skipped
    assert PollState.objects.get().claim_token == ""  # and the next poll may claim the feed
    monkeypatch.undo()
    assert events_poll().stored == 20


def test_without_a_consent_side_the_relay_sends_nothing(jlis_simulator, signed_consent, monkeypatch):
    with transaction.atomic():
        message = outbox_enqueue(kind=OutboxKind.SUBMIT_CONSENT, consent=signed_consent())
    monkeypatch.setattr(consent_side, "_registered", None)
    with pytest.raises(ImproperlyConfigured):
        outbox_send(message_id=message.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 0)  # not claimed
    assert jlis_simulator.requests() == []
    monkeypatch.undo()
    assert outbox_send(message_id=message.pk).status == "sent"
    assert OutboxMessage.objects.get(pk=message.pk).status == OutboxStatus.SENT
