"""Terms versions, consents and their statements, Mynaportal linkage, and revoked certificates."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from driver_records.models import DriverRecord
from onestop.models import Office


class TermsVersion(models.Model):
    """R17: the terms a consent was given under."""

    version = models.CharField(_("version"), max_length=32, unique=True)
    effective_date = models.DateField(_("effective date"))
    text = models.TextField(_("text"))

    class Meta:
        ordering = ["-effective_date", "-id"]
        verbose_name = _("terms version")
        verbose_name_plural = _("terms versions")

    def __str__(self) -> str:
        return self.version


class ConsentItem(models.TextChoices):
    """R2: what the holder lets J-LIS give us. The certificate serial is always given."""

    ADDRESS = "address", _("Address")
    NAME = "name", _("Name")
    BIRTH_DATE = "birth_date", _("Date of birth")


class Channel(models.TextChoices):
    COUNTER = "counter", _("Counter")
    MYNAPORTAL = "mynaportal", _("Mynaportal")
    JPKI_MOBILE = "jpki_mobile", _("JPKI Mobile")


class ConsentStatus(models.TextChoices):
    PENDING = "pending", _("Pending (waiting for J-LIS)")
    ACTIVE = "active", _("Active")
    SUPERSEDED = "superseded", _("Superseded")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")
    REJECTED = "rejected", _("Rejected by J-LIS")
    SUSPENDED = "suspended", _("Suspended")
    # Taken by mistake and withdrawn before J-LIS reflected it: J-LIS is told to cancel it, it
    # never takes effect and never governs (not a revocation: the consent never was in force).
    WITHDRAWN = "withdrawn", _("Withdrawn before J-LIS reflected it")


class ConsentStatement(models.Model):
    """The exact text a holder is asked to sign, with its one-time nonce.

    It is used at most once: registering a consent claims it with a conditional UPDATE.
    """

    record = models.ForeignKey(DriverRecord, on_delete=models.PROTECT, related_name="statements")
    items = models.JSONField(_("items"))
    terms_version = models.ForeignKey(TermsVersion, on_delete=models.PROTECT, related_name="+")
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="+")
    clerk = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    nonce = models.CharField(max_length=64, unique=True)
    text = models.TextField(_("statement"))
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # The last signature refused for this statement, so the clerk's page can say why.
    refused_code = models.CharField(max_length=40, blank=True)
    refused_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("consent statement")
        verbose_name_plural = _("consent statements")

    def __str__(self) -> str:
        return self.nonce


class Consent(models.Model):
    record = models.ForeignKey(DriverRecord, on_delete=models.PROTECT, related_name="consents")
    statement = models.OneToOneField(
        ConsentStatement, null=True, blank=True, on_delete=models.PROTECT, related_name="consent"
    )
    reference = models.CharField(_("reference number"), max_length=20, unique=True)
    items = models.JSONField(_("items"))
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    office = models.ForeignKey(Office, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    clerk = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    terms_version = models.ForeignKey(TermsVersion, on_delete=models.PROTECT, related_name="consents")
    # What the holder signed, and the evidence of checking it (R3). Erased on suspension (R15).
    statement_bytes = models.BinaryField(_("signed statement"), blank=True, default=b"")
    statement_sha256 = models.CharField(max_length=64, blank=True)
    signature = models.BinaryField(blank=True, default=b"")
    certificate = models.BinaryField(blank=True, default=b"")
    verification = models.JSONField(_("verification evidence"), default=dict, blank=True)
    cert_serial = models.CharField(_("certificate serial"), max_length=64, blank=True)
    cert_issuer_key_id = models.CharField(max_length=64, blank=True)
    cert_not_after = models.DateTimeField(_("certificate valid until"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=ConsentStatus.choices, db_index=True)
    jlis_consent_id = models.CharField(_("J-LIS consent id"), max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(_("registered at"))
    consent_date = models.DateField(_("consent date"), null=True, blank=True)
    first_day = models.DateField(_("first day"), null=True, blank=True)
    last_valid_day = models.DateField(_("last valid day"), null=True, blank=True)
    # J-LIS's order (R6): the holder sequence of the event that reflected or registered it. With
    # the consent date it decides which consent governs (consents/governing.py); 0 before then.
    jlis_seq = models.BigIntegerField(_("J-LIS order"), default=0)
    rejected_reason = models.CharField(max_length=200, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_channel = models.CharField(max_length=12, choices=Channel.choices, blank=True)
    revoked_reason = models.CharField(max_length=500, blank=True)
    superseded_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawn_reason = models.CharField(_("reason for the withdrawal"), max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            # At most one consent per record is active at a time (R6 supersedes the old one).
            models.UniqueConstraint(
                fields=["record"], condition=Q(status="active"), name="one_active_consent_per_record"
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class MynaportalLink(models.Model):
    """R4, R13: the holder linked Mynaportal (マイナポータル連携), recorded at the counter."""

    record = models.OneToOneField(DriverRecord, on_delete=models.PROTECT, related_name="mynaportal_link")
    linked_at = models.DateTimeField()
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    cert_serial = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("Mynaportal linkage")
        verbose_name_plural = _("Mynaportal linkages")

    def __str__(self) -> str:
        return f"{self.record_id}"


class CounterTerminal(models.Model):
    """A signing terminal at one office's counter. Its API token is kept only as a SHA-256."""

    name = models.CharField(_("name"), max_length=64)
    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.PROTECT, related_name="terminals")
    token_prefix = models.CharField(_("token prefix"), max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    # An authenticated terminal is the API request's user (DRF checks these two attributes).
    is_authenticated = True
    is_anonymous = False

    class Meta:
        ordering = ["office", "name"]
        verbose_name = _("counter terminal")
        verbose_name_plural = _("counter terminals")

    def __str__(self) -> str:
        return self.name


class CrlImport(models.Model):
    """One imported J-LIS CRL; the CRL number only moves forward per issuer key."""

    issuer_key_id = models.CharField(max_length=64)
    crl_number = models.DecimalField(max_digits=50, decimal_places=0)
    this_update = models.DateTimeField()
    next_update = models.DateTimeField(null=True, blank=True)
    entries = models.PositiveIntegerField()
    imported_at = models.DateTimeField()

    class Meta:
        ordering = ["-imported_at"]
        verbose_name = _("CRL import")
        verbose_name_plural = _("CRL imports")
        constraints = [models.UniqueConstraint(fields=["issuer_key_id", "crl_number"], name="unique_crl_number")]

    def __str__(self) -> str:
        return f"{self.issuer_key_id}#{self.crl_number}"


class RevokedCertificate(models.Model):
    """A revoked signing certificate; looked up by (issuer key, serial) in one index probe."""

    issuer_key_id = models.CharField(max_length=64)
    serial = models.CharField(max_length=64)
    revoked_at = models.DateTimeField()
    reason = models.CharField(max_length=32, blank=True)

    class Meta:
        verbose_name = _("revoked certificate")
        verbose_name_plural = _("revoked certificates")
        constraints = [models.UniqueConstraint(fields=["issuer_key_id", "serial"], name="unique_revoked_serial")]

    def __str__(self) -> str:
        return self.serial
