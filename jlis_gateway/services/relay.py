"""The outbox relay: send each OutboxMessage to J-LIS, so that J-LIS acts once per row.

A row is claimed with a conditional UPDATE (pending -> sending); no lock is held during the
call; the request is built from the consent at send time (the row holds no copy of it); the
row's idempotency key goes with every attempt, so a repeat after a timeout or a crash is
recognised by J-LIS. Each outcome is written only by the claim that made the call.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F
from django.utils import timezone

from onestop.audit import AuditEntry, audit_log
from onestop.audit_actions import AuditAction

from ..client import JlisClient, JlisError, JlisRefused, SubmitResult
from ..consent_side import consent_side
from ..models import OutboxKind, OutboxMessage, OutboxStatus

logger = logging.getLogger(__name__)
RELAY = "jlis-relay"
# How a row the relay gave up on (transient failures until the last attempt) begins its reason;
# a supervisor may send such a row again (services/resend.py). Refusals begin otherwise.
GAVE_UP = "gave up after"


def gave_up(message: OutboxMessage) -> bool:
    return message.status == OutboxStatus.FAILED and message.last_error.startswith(GAVE_UP + " ")


@dataclass(frozen=True)
class SendResult:
    status: str  # sent | failed | retry | waiting | not_claimed
    retry_at: datetime | None = None


class _Wait(Exception):
    """Not sendable yet (a revocation or a cancel before its submission has been sent)."""


class _Unsendable(Exception):
    """Can never be sent; the row fails with this reason."""


def outbox_send(*, message_id: int, client: JlisClient | None = None) -> SendResult:
    """Send one due row if this call claims it. Must not run inside a transaction."""
    consent_side()  # fail closed before claiming anything: the call's outcome must reach consents
    now = timezone.now()
    claimed = OutboxMessage.objects.filter(pk=message_id, status=OutboxStatus.PENDING, next_attempt_at__lte=now).update(
        status=OutboxStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if claimed != 1:
        return SendResult("not_claimed")
    message = OutboxMessage.objects.select_related("consent", "consent__record").get(pk=message_id)
    try:
        call = _call_for(message)
    except _Wait as wait:
        retry_at = now + timedelta(seconds=settings.JLIS_OUTBOX_RETRY_SECONDS)
        # Waiting is not an attempt: give the claim's count back.
        _finish(
            message,
            status=OutboxStatus.PENDING,
            attempts=F("attempts") - 1,
            next_attempt_at=retry_at,
            last_error=str(wait),
        )
        return SendResult("waiting", retry_at)
    except _Unsendable as exc:
        _fail(message, str(exc), refused=True)
        return SendResult("failed")
    try:
        result = call(client or JlisClient.from_settings())
    except JlisRefused as exc:
        _fail(message, f"J-LIS refused: {exc}", refused=True, code=exc.code)
        return SendResult("failed")
    except JlisError as exc:
        return _retry_or_fail(message, str(exc))
    _sent(message, result)
    return SendResult("sent")


def outbox_sweep(*, limit: int = 100, client: JlisClient | None = None) -> dict[str, int]:
    """Beat's sweep: reclaim rows a vanished worker left in `sending`, then send due rows."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.JLIS_OUTBOX_SENDING_TIMEOUT_SECONDS)
    reclaimed = OutboxMessage.objects.filter(status=OutboxStatus.SENDING, claimed_at__lt=stale).update(
        status=OutboxStatus.PENDING,
        claimed_at=None,
        last_error="no outcome within the sending timeout: sent again with the same key",
    )
    due = list(
        OutboxMessage.objects.filter(status=OutboxStatus.PENDING, next_attempt_at__lte=now)
        .order_by("id")
        .values_list("id", flat=True)[: limit + 1]
    )
    counts = {"reclaimed": reclaimed, "more": int(len(due) > limit)}
    client = client or JlisClient.from_settings()
    for message_id in due[:limit]:
        if not connection.in_atomic_block:
            close_old_connections()
        status = outbox_send(message_id=message_id, client=client).status
        counts[status] = counts.get(status, 0) + 1
    if reclaimed or due:
        logger.info("jlis outbox sweep: %s", counts)
    return counts


def _call_for(message: OutboxMessage) -> Callable[[JlisClient], SubmitResult]:
    consent = message.consent
    key = message.idempotency_key
    if message.kind == OutboxKind.SUBMIT_CONSENT:
        statement, signature, certificate = (
            bytes(consent.statement_bytes),
            bytes(consent.signature),
            bytes(consent.certificate),
        )
        if not (statement and signature and certificate):
            raise _Unsendable("the consent's signed statement is no longer held")
        return lambda client: client.submit_consent(
            idempotency_key=key,
            reference=consent.reference,
            statement=statement,
            signature=signature,
            certificate=certificate,
            items=list(consent.items),
        )
    if message.kind in (OutboxKind.REVOKE_CONSENT, OutboxKind.CANCEL_CONSENT):
        if not consent.jlis_consent_id:
            submission_unsent = OutboxMessage.objects.filter(
                consent=consent,
                kind=OutboxKind.SUBMIT_CONSENT,
                status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING],
            ).exists()
            if submission_unsent:
                raise _Wait("waiting for the consent's submission to be sent")
            raise _Unsendable("J-LIS holds no such consent (its submission was never accepted)")
        jlis_id = consent.jlis_consent_id
        if message.kind == OutboxKind.CANCEL_CONSENT:
            return lambda client: client.cancel_consent(idempotency_key=key, consent_id=jlis_id)
        # Free text stays here: staff reasons may name people.
        return lambda client: client.revoke_consent(idempotency_key=key, consent_id=jlis_id, reason="counter")
    raise _Unsendable(f"unknown outbox kind {message.kind}")


def _finish(message: OutboxMessage, **fields: object) -> int:
    """Write an outcome, only if this claim still owns the row (a reclaimed row moved on)."""
    return OutboxMessage.objects.filter(
        pk=message.pk, status=OutboxStatus.SENDING, claimed_at=message.claimed_at
    ).update(**fields)


def _retry_or_fail(message: OutboxMessage, reason: str) -> SendResult:
    if message.attempts >= settings.JLIS_OUTBOX_MAX_ATTEMPTS:
        _fail(message, f"{GAVE_UP} {message.attempts} attempts: {reason}")
        return SendResult("failed")
    base = settings.JLIS_OUTBOX_RETRY_SECONDS * 2 ** (message.attempts - 1)
    retry_at = timezone.now() + timedelta(seconds=min(3600.0, base) * random.uniform(0.5, 1.0))  # noqa: S311
    _finish(message, status=OutboxStatus.PENDING, claimed_at=None, next_attempt_at=retry_at, last_error=reason[:300])
    return SendResult("retry", retry_at)


def _fail(message: OutboxMessage, reason: str, *, refused: bool = False, code: str = "") -> None:
    """Give the row up. A submission J-LIS refused outright will never be reflected: the consent
    is rejected with the reason, so the counter does not show it pending for ever. A cancel J-LIS
    refused because it had reflected the consent already becomes a revocation (the consents app
    decides, in this transaction, through the consent side)."""
    consents = consent_side()
    with transaction.atomic(durable=True):
        if _finish(message, status=OutboxStatus.FAILED, last_error=reason[:300]) == 1:
            audit_log(_entry(message, AuditAction.CONSENT_JLIS_FAILED, {"kind": message.kind, "reason": reason[:300]}))
            if refused and message.kind == OutboxKind.SUBMIT_CONSENT:
                consents.submission_refused(consent_id=message.consent_id, reason=reason[:200])
            if refused and message.kind == OutboxKind.CANCEL_CONSENT:
                consents.withdrawal_refused(consent_id=message.consent_id, code=code)
    logger.warning("jlis outbox row %s failed: %s", message.pk, reason[:300])


def _sent(message: OutboxMessage, result: SubmitResult) -> None:
    now = timezone.now()
    answer = {"consent_id": result.consent_id, "status": result.status}
    consents = consent_side()
    with transaction.atomic(durable=True):
        if _finish(message, status=OutboxStatus.SENT, sent_at=now, response=answer, last_error="") != 1:
            return  # a later claim of this row records the outcome (J-LIS replays it by key)
        if message.kind == OutboxKind.SUBMIT_CONSENT:
            consents.submission_accepted(consent_id=message.consent_id, jlis_consent_id=result.consent_id)
        audit_log(_entry(message, AuditAction.CONSENT_JLIS_SENT, {"kind": message.kind, **answer}))


def _entry(message: OutboxMessage, action: AuditAction, values: dict[str, str]) -> AuditEntry:
    consent = message.consent
    return AuditEntry(
        action=action,
        subject_type="consent",
        subject_id=str(consent.pk),
        actor_label=RELAY,
        record_number=consent.record.number,
        serial=consent.cert_serial,
        new_values=values,
    )
