"""The feed state of a record: whether J-LIS updates reach it, and if not, why (derived)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from driver_records.models import CARD_ONLY_STATUSES, DriverRecord
from driver_records.selectors import record_serials
from jlis_gateway.inbox import JlisEvent, events_about_serials
from onestop.clock import japan_date

from .governing import governing_consent
from .models import Consent, ConsentStatus, RevokedCertificate


class FeedState(models.TextChoices):
    ACTIVE = "active", _("Active: J-LIS updates are applied")
    PENDING = "pending", _("Waiting for J-LIS to reflect the consent")
    WAITING_CERTIFICATE = "waiting_certificate", _("Waiting for a new certificate (the old one was revoked)")
    STOPPED_CERTIFICATE_EXPIRED = (
        "stopped_certificate_expired",
        _("Stopped: the signing certificate expired; the holder must register again"),
    )
    STOPPED_HOLDING_STATUS = (
        "stopped_holding_status",
        _("Stopped: the holding status changed; a new registration is needed"),
    )
    REVOKED = "revoked", _("Stopped: the consent was revoked")
    EXPIRED = "expired", _("Stopped: the consent's ten years have passed")
    SUSPENDED = "suspended", _("Suspended (service stopped for this holder)")
    NONE = "none", _("No consent registered")


@dataclass(frozen=True)
class Feed:
    state: FeedState
    consent: Consent | None

    @property
    def label(self) -> str:
        return str(self.state.label)

    @property
    def active(self) -> bool:
        return self.state == FeedState.ACTIVE

    @property
    def tone(self) -> str:
        """How the holder page marks it: in force, on its way (nothing for the clerk to put
        right: J-LIS's reflection or a new certificate will come), or stopped / none."""
        if self.state == FeedState.ACTIVE:
            return "ok"
        if self.state in (FeedState.PENDING, FeedState.WAITING_CERTIFICATE):
            return "waiting"
        return "refused"


def record_feed(record: DriverRecord, *, at: datetime | None = None) -> Feed:
    """The feed follows the consent that governs the record (R6: consents/governing.py)."""
    at = at or timezone.now()
    consent = governing_consent(record)
    if record.service_stopped:  # R15: whatever the consents' statuses were
        return Feed(FeedState.SUSPENDED, consent)
    if consent is None:
        return Feed(FeedState.NONE, None)
    by_status: dict[str, FeedState] = {
        ConsentStatus.SUSPENDED: FeedState.SUSPENDED,
        ConsentStatus.PENDING: FeedState.PENDING,
        ConsentStatus.REVOKED: FeedState.REVOKED,
        ConsentStatus.EXPIRED: FeedState.EXPIRED,
    }
    if consent.status in by_status:
        return Feed(by_status[consent.status], consent)
    if consent.last_valid_day is not None and consent.last_valid_day < japan_date(at):
        return Feed(FeedState.EXPIRED, consent)
    if record.holding_status not in CARD_ONLY_STATUSES or (
        record.feed_stopped_at is not None and consent.created_at <= record.feed_stopped_at
    ):
        return Feed(FeedState.STOPPED_HOLDING_STATUS, consent)
    if record.cert_not_after is not None and record.cert_not_after < at:
        return Feed(FeedState.STOPPED_CERTIFICATE_EXPIRED, consent)
    if (
        record.cert_serial
        and RevokedCertificate.objects.filter(
            issuer_key_id=record.cert_issuer_key_id, serial=record.cert_serial
        ).exists()
    ):
        return Feed(FeedState.WAITING_CERTIFICATE, consent)
    return Feed(FeedState.ACTIVE, consent)


SKIP_REASONS = {
    "unknown_serial": _("No record is linked to the certificate serial J-LIS named."),
    "stale": _("Older than information already applied; newer data is kept."),
    "no_active_consent": _("No active consent when the information arrived."),
    "consent_revoked": _("The consent had been revoked; nothing more is applied."),
    "consent_withdrawn": _("The consent had been withdrawn before J-LIS reflected it; nothing is applied for it."),
    "consent_expired": _("The consent's ten years had passed."),
    "consent_suspended": _("The service is stopped for this holder."),
    "service_suspended": _("The service is stopped for this holder."),
    "not_eligible": _("The holder was not マイナ免許証のみ / マイナ経歴証明書のみ."),
    "feed_stopped_holding_status": _("The holding status changed after the consent; a new registration is needed."),
    "certificate_expired": _("The signing certificate had expired; J-LIS provides nothing after expiry."),
}


def skip_reason_text(code: str) -> str:
    return str(SKIP_REASONS.get(code, code))


def record_jlis_events(record: DriverRecord, *, limit: int = 10) -> list[JlisEvent]:
    """Recent J-LIS events about the record's certificates, current and past."""
    serials = record_serials(record=record)
    if not serials:
        return []
    events = events_about_serials(serials=serials, limit=limit)
    for event in events:
        event.reason_text = skip_reason_text(event.reason)  # type: ignore[attr-defined]  # for the page
    return events
