"""Withdrawing a pending consent taken by mistake, before J-LIS reflects it (issue 18).

A withdrawal is not a revocation (R9): the consent never took effect, so it never governs
(consents/governing.py) and nothing is ever applied under it; J-LIS is asked to cancel it
(docs/jlis-protocol.md, "Cancel a consent not yet reflected"). A supervisor withdraws, at the
counter of the holder's residence, with a reason, as for a revocation: it ends a consent the
holder signed, so the same authority decides, and the clerk who took it by mistake is not the
one who undoes it.

J-LIS may have reflected the consent before our cancel reaches it. It then refuses the cancel
(`consent_already_reflected`): the consent is in force at J-LIS and the only way to end it there
is a revocation, so `consent_withdrawal_refused` turns the withdrawal into one, with the
withdrawing supervisor and reason, and the outbox asks J-LIS to revoke.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jlis_gateway.models import OutboxKind
from jlis_gateway.outbox import outbox_enqueue, outbox_submissions_withdraw
from jlis_gateway.selectors import outbox_submission_claimed
from onestop.audit_actions import AuditAction
from onestop.models import User

from ..errors import ConsentRefused
from ..models import Channel, Consent, ConsentStatus
from ._common import audit_consent
from .lifecycle import _locked, locked_at_the_counter, supervisor_reason

NOT_SENT = "not sent: the consent was withdrawn before it was sent"
REFUSED_CODE = "consent_already_reflected"


def consent_withdraw(*, consent_id: int, actor: User, reason: str) -> Consent:
    """A supervisor withdraws a pending consent taken by mistake. A submission not yet claimed by
    the relay is never sent; one that is being sent or was sent is followed by a cancel."""
    reason = supervisor_reason(actor, reason, _("Reason for withdrawing"))
    with transaction.atomic(durable=True):
        _record, consent = locked_at_the_counter(consent_id, actor)
        if consent.status == ConsentStatus.ACTIVE:
            raise ConsentRefused("withdraw_reflected")  # J-LIS's reflection reached us first
        if consent.status != ConsentStatus.PENDING:
            raise ConsentRefused("not_withdrawable")
        consent.status, consent.withdrawn_at, consent.withdrawn_by = ConsentStatus.WITHDRAWN, timezone.now(), actor
        consent.withdrawn_reason = reason
        consent.save(update_fields=["status", "withdrawn_at", "withdrawn_by", "withdrawn_reason"])
        # A row the relay has claimed is left alone: it may be at J-LIS already.
        unsent = outbox_submissions_withdraw(consent=consent, reason=NOT_SENT)
        at_jlis = bool(consent.jlis_consent_id) or outbox_submission_claimed(consent)
        if at_jlis:
            outbox_enqueue(kind=OutboxKind.CANCEL_CONSENT, consent=consent)
        audit_consent(
            AuditAction.CONSENT_WITHDRAW,
            consent,
            actor=actor,
            old={"status": ConsentStatus.PENDING},
            new={
                "status": consent.status,
                "reason": reason,
                "submission_withdrawn": unsent,
                "jlis_cancel_queued": at_jlis,
            },
        )
    return consent


def consent_withdrawal_refused(*, consent_id: int, code: str) -> bool:
    """J-LIS refused to cancel a withdrawn consent. `consent_already_reflected`: it is in force at
    J-LIS, so the withdrawal becomes a revocation (same supervisor, same reason, at the counter)
    and J-LIS is asked to revoke it. Joins the caller's transaction; True when it revoked."""
    with transaction.atomic(savepoint=False):
        locked = _locked(consent_id)
        if locked is None:
            return False
        _record, consent = locked
        if consent.status != ConsentStatus.WITHDRAWN or code != REFUSED_CODE:
            return False  # any other refusal: J-LIS holds nothing that can take effect
        consent.status, consent.revoked_at, consent.revoked_by = (
            ConsentStatus.REVOKED,
            timezone.now(),
            consent.withdrawn_by,
        )
        consent.revoked_channel, consent.revoked_reason = Channel.COUNTER, consent.withdrawn_reason
        consent.save(update_fields=["status", "revoked_at", "revoked_by", "revoked_channel", "revoked_reason"])
        outbox_enqueue(kind=OutboxKind.REVOKE_CONSENT, consent=consent)
        audit_consent(
            AuditAction.CONSENT_REVOKE,
            consent,
            actor=None,
            old={"status": ConsentStatus.WITHDRAWN},
            new={"status": consent.status, "channel": Channel.COUNTER, "jlis_cancel_refused": code},
        )
        return True
