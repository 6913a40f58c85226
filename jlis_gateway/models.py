"""What passes between us and J-LIS: stored events, the poll cursor, and the outbox."""

from __future__ import annotations

from django.db import models
from django.db.models.fields.json import KeyTextTransform
from django.utils.translation import gettext_lazy as _


class EventKind(models.TextChoices):
    CONSENT_REFLECTED = "consent_reflected", _("Consent reflected")
    CONSENT_REJECTED = "consent_rejected", _("Consent rejected")
    CONSENT_REVOKED = "consent_revoked", _("Consent revoked elsewhere")
    CONSENT_REGISTERED = "consent_registered", _("Consent registered through Mynaportal")
    LATEST_INFO = "latest_info", _("Latest information")


class EventStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be applied")
    APPLIED = "applied", _("Applied")
    SKIPPED = "skipped", _("Skipped")


class JlisEvent(models.Model):
    """An event read from J-LIS, stored once (unique J-LIS id) before anything is applied."""

    event_id = models.CharField(_("J-LIS event id"), max_length=64)  # unique: Meta.constraints
    kind = models.CharField(_("kind"), max_length=24, choices=EventKind.choices)
    holder_seq = models.BigIntegerField(_("per-holder sequence"))
    serial = models.CharField(_("serial"), max_length=64, blank=True)
    jlis_consent_id = models.CharField(max_length=64, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"))
    # The event's data as received; personal data in it is erased on suspension (R15).
    payload = models.JSONField(_("payload"))
    received_at = models.DateTimeField(_("received at"))
    status = models.CharField(_("status"), max_length=10, choices=EventStatus.choices, default=EventStatus.PENDING)
    reason = models.CharField(_("reason"), max_length=64, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("J-LIS event")
        verbose_name_plural = _("J-LIS events")
        # Every index costs each event two writes (stored, then applied): equality lookups only,
        # so no LIKE twins (the event id is unique by a constraint, as `unique=True` would add
        # one), and the consent id only where there is one.
        constraints = [models.UniqueConstraint(fields=["event_id"], name="jlis_event_id_unique")]
        indexes = [
            models.Index(fields=["id"], condition=models.Q(status="pending"), name="jlis_event_pending_idx"),
            models.Index(fields=["serial"], name="jlis_event_serial_idx"),
            models.Index(
                fields=["jlis_consent_id"], condition=~models.Q(jlis_consent_id=""), name="jlis_event_consent_id_idx"
            ),
            # The door (services/door.py) looks up what events not yet applied announce: the
            # serial latest information moves to, and the (rare) consent events. The first by
            # serial whatever the status, which the door checks on the rows found: a status in the
            # index's condition let PostgreSQL, whose statistics lag while a poll catches up, read
            # every pending event instead (migration 0007).
            models.Index(
                KeyTextTransform("new_serial", "payload"),
                condition=models.Q(kind="latest_info"),
                name="jlis_event_announces_idx",
            ),
            models.Index(
                fields=["id"],
                condition=models.Q(status="pending") & ~models.Q(kind="latest_info"),
                name="jlis_event_consent_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.event_id


class QuarantinedEvent(models.Model):
    """An event J-LIS sent that we could not read: never applied, and kept without its values.

    What is kept lets an operator ask J-LIS to serve it again and recognise it when it comes
    (docs/jlis-protocol.md): the id, the cursor it came after, the reason, the JSON paths that
    failed and a hash of the body. The body is not kept (R2, R15).
    """

    event_id = models.CharField(max_length=64, blank=True)
    cursor = models.CharField(max_length=128, blank=True)
    reason = models.CharField(_("reason"), max_length=300)
    paths = models.JSONField(_("fields that failed"), default=list)
    body_sha256 = models.CharField(_("SHA-256 of the body"), max_length=64, blank=True)
    received_at = models.DateTimeField()
    resolved_at = models.DateTimeField(_("served again and stored"), null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("quarantined event")
        verbose_name_plural = _("quarantined events")

    def __str__(self) -> str:
        return self.event_id or f"#{self.pk}"


class PollState(models.Model):
    """The poll cursor (advanced only in the transaction that stores the events it passes)."""

    name = models.CharField(max_length=32, unique=True, default="events")
    cursor = models.CharField(max_length=128, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    # The running poll's claim: taken with a conditional UPDATE, renewed per page, expires.
    claim_token = models.CharField(max_length=32, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("poll state")
        verbose_name_plural = _("poll state")

    def __str__(self) -> str:
        return self.name


class OutboxKind(models.TextChoices):
    SUBMIT_CONSENT = "submit_consent", _("Submit consent")
    REVOKE_CONSENT = "revoke_consent", _("Revoke consent")
    # A pending consent taken by mistake: J-LIS is asked never to reflect it (docs/jlis-protocol.md).
    CANCEL_CONSENT = "cancel_consent", _("Cancel a consent not yet reflected")


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutboxMessage(models.Model):
    """A call to J-LIS written in the same transaction as the change that needs it."""

    kind = models.CharField(_("kind"), max_length=20, choices=OutboxKind.choices)
    consent = models.ForeignKey("consents.Consent", on_delete=models.PROTECT, related_name="outbox")
    # Sent once per row: J-LIS deduplicates on this key (the row's idempotency key).
    idempotency_key = models.CharField(max_length=64, unique=True)
    payload = models.JSONField(default=dict)
    status = models.CharField(_("status"), max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    response = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx")]

    def __str__(self) -> str:
        return f"{self.kind}#{self.pk}"
