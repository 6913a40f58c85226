"""A consent registered at the counter the whole way: statement, signature, submission to J-LIS."""

from __future__ import annotations

from consents.models import Consent
from consents.services import consent_register, statement_create
from jlis_gateway.models import OutboxMessage
from jlis_gateway.services.relay import outbox_send


def register_unsent(record, clerk, card, items) -> Consent:
    """Sign the statement with the holder's card and register it; the submission waits for the relay."""
    statement = statement_create(record_id=record.pk, items=items, actor=clerk)
    return consent_register(
        statement_id=statement.pk,
        signature=card.sign(statement.text.encode("utf-8")),
        certificate_der=card.certificate_der,
        actor=clerk,
    )


def register_at_counter(record, clerk, card, items) -> Consent:
    """Sign the statement with the holder's card, register, and send the submission (the simulator takes it)."""
    consent = register_unsent(record, clerk, card, items)
    for message in OutboxMessage.objects.filter(consent=consent):
        outbox_send(message_id=message.pk)
    consent.refresh_from_db()
    assert consent.jlis_consent_id, "the simulator took the submission"
    return consent
