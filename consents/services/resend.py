"""A supervisor sends again a message to J-LIS the relay gave up on: the consents app's half.

The gateway puts the row back (jlis_gateway/services/resend.py: only a row it gave up on, sent
again with the same idempotency key). Here: who may ask (a supervisor of the holder's
prefecture, R4), and whether the consent still wants it: not the submission of a consent that
no longer waits for J-LIS (revoked since: J-LIS would register a consent the holder withdrew).
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from driver_records.access import office_serves
from driver_records.selectors import record_locked_for_consent
from jlis_gateway.models import OutboxKind, OutboxMessage, OutboxStatus
from jlis_gateway.selectors import outbox_message
from jlis_gateway.services.resend import outbox_message_resend, outbox_resend_refusal
from onestop.audit import AuditEntry, audit_log
from onestop.audit_actions import AuditAction
from onestop.models import User
from onestop.roles import is_supervisor

from ..models import Consent, ConsentStatus

RESEND_REFUSALS = {
    "forbidden": _("Only a supervisor may send a message to J-LIS again."),
    "not_found": _("There is no such message to J-LIS."),
    "no_office": _("Your account has no office: you cannot act for a holder."),
    "wrong_prefecture": _("This holder is served at the counters of another prefecture."),
    "not_given_up": _("Only a message whose sending was given up can be sent again; this one was not."),
    "refused": _("J-LIS refused this message: sent again, it would be refused the same way."),
    "consent_not_pending": _(
        "The consent no longer waits for J-LIS (revoked, rejected or superseded): its submission is not sent again."
    ),
}


class ResendRefused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    @property
    def message(self) -> str:
        return str(RESEND_REFUSALS[self.code])


def resend_refusal(message: OutboxMessage) -> str | None:
    """Why the row may not be sent again (a code of RESEND_REFUSALS), or None when it may. Reads
    the row's consent (select it with the row)."""
    if (refusal := outbox_resend_refusal(message)) is not None:
        return refusal
    if message.kind == OutboxKind.SUBMIT_CONSENT and message.consent.status != ConsentStatus.PENDING:
        return "consent_not_pending"
    return None


def outbox_resend(*, message_id: int, actor: User) -> OutboxMessage:
    """Have the relay send a given-up row again with its idempotency key (audited)."""
    if not is_supervisor(actor):
        raise ResendRefused("forbidden")
    with transaction.atomic(durable=True):
        message = outbox_message(message_id=message_id)
        if message is None:
            raise ResendRefused("not_found")
        # The one lock order of the consent's writers (record, then consent): a revocation at the
        # counter cannot slip between the check of the consent's status and the reset.
        record = record_locked_for_consent(consent_id=message.consent_id)
        message.consent = Consent.objects.select_for_update().get(pk=message.consent_id)
        if actor.office is None:
            raise ResendRefused("no_office")
        if not office_serves(actor.office, record.prefecture):  # R4: the one object-scope rule
            raise ResendRefused("wrong_prefecture")
        if (refusal := resend_refusal(message)) is not None:
            raise ResendRefused(refusal)
        old = {"status": message.status, "attempts": message.attempts, "reason": message.last_error}
        if not outbox_message_resend(message_id=message.pk):  # nothing else moves a given-up row: a guard
            raise ResendRefused("not_given_up")
        audit_log(
            AuditEntry(
                action=AuditAction.CONSENT_JLIS_RESEND,
                subject_type="consent",
                subject_id=str(message.consent_id),
                actor=actor,
                record_number=record.number,
                serial=message.consent.cert_serial,
                old_values=old,
                new_values={"status": OutboxStatus.PENDING, "kind": message.kind, "message": message.pk},
            )
        )
    message.refresh_from_db()
    return message
