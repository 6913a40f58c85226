"""Defensive measures against prohibited acts (R15, terms 6-7) and disclosure requests (R16, terms 11)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from driver_records.models import DriverRecord
from onestop.models import Office


class ProhibitedAct(models.TextChoices):
    """The prohibited acts of article 6 of the terms, in its order."""

    MISUSE = "misuse", _("(1) Using the service for other purposes")
    NOT_THE_HOLDER = "not_the_holder", _("(2) Use of the service by someone other than the licence holder")
    UNAUTHORISED_ACCESS = "unauthorised_access", _("(3) Unauthorised access to the service")
    SABOTAGE = "sabotage", _("(4) Deliberately obstructing or destroying the service's management and operation")
    MALWARE = "malware", _("(5) Deliberately sending files infected with a virus to the service")
    PRIVACY_VIOLATION = "privacy_violation", _("(6) Violating another person's privacy")
    OTHER = "other", _("(7) Other acts found to violate laws and regulations")


class Grounds(models.TextChoices):
    """Article 7: measures may be taken when an act is evident or when one is suspected."""

    EVIDENT = "evident", _("The act is evident")
    SUSPECTED = "suspected", _("The act is suspected")


class SuspensionStatus(models.TextChoices):
    PROPOSED = "proposed", _("Waiting for a second supervisor")
    CONFIRMED = "confirmed", _("Confirmed: service stopped, collected data erased")
    REJECTED = "rejected", _("Rejected")


class SuspensionRequest(models.Model):
    """A proposal to stop the service for a holder and erase what was collected from them (R15).

    One supervisor proposes, a different one decides (four eyes; the database refuses a
    decision by the proposer too).
    """

    record = models.ForeignKey(DriverRecord, on_delete=models.PROTECT, related_name="suspension_requests")
    reason_code = models.CharField(_("prohibited act"), max_length=24, choices=ProhibitedAct.choices)
    grounds = models.CharField(_("grounds"), max_length=10, choices=Grounds.choices)
    # The staff's account of the act; never holds a My Number (R14). Kept out of the audit
    # trail, which keeps its SHA-256 instead: free text may name people.
    note = models.TextField(_("note"), max_length=1000)
    status = models.CharField(
        _("status"), max_length=10, choices=SuspensionStatus.choices, default=SuspensionStatus.PROPOSED, db_index=True
    )
    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.PROTECT, related_name="+")
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("proposed by"), on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(_("proposed at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), max_length=1000, blank=True)
    # What the confirmation erased: counts by kind, never the erased data.
    erased = models.JSONField(_("erased"), default=dict, blank=True)

    class Meta:
        ordering = ["-proposed_at", "-id"]
        verbose_name = _("suspension request")
        verbose_name_plural = _("suspension requests")
        constraints = [
            models.UniqueConstraint(
                fields=["record"], condition=Q(status="proposed"), name="one_open_suspension_proposal_per_record"
            ),
            models.UniqueConstraint(
                fields=["record"], condition=Q(status="confirmed"), name="one_confirmed_suspension_per_record"
            ),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("proposed_by")),
                name="suspension_decided_by_another_supervisor",
            ),
            models.CheckConstraint(
                condition=Q(status="proposed", decided_by__isnull=True, decided_at__isnull=True)
                | Q(status__in=["confirmed", "rejected"], decided_by__isnull=False, decided_at__isnull=False),
                name="suspension_decision_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"S{self.pk}"


class Requester(models.TextChoices):
    HOLDER = "holder", _("The holder")
    LEGAL_REPRESENTATIVE = "legal_representative", _("The holder's legal representative")
    AGENT = "agent", _("An agent the holder authorised")


class IdentityDocument(models.TextChoices):
    """How the requester's identity was checked (R16). A My Number is never recorded (R14)."""

    MY_NUMBER_CARD = "my_number_card", _("My Number card (its My Number is not recorded)")
    DRIVING_LICENCE = "driving_licence", _("Driver's licence")
    DRIVING_HISTORY = "driving_history", _("Driving-history certificate")
    PASSPORT = "passport", _("Passport")
    RESIDENCE_CARD = "residence_card", _("Residence card")
    OTHER_PHOTO_ID = "other_photo_id", _("Another official document with a photograph")
    POWER_OF_ATTORNEY = "power_of_attorney", _("Agent: their own identity document and a power of attorney")


class DisclosureStatus(models.TextChoices):
    """The steps of a disclosure request, in the only order they can be taken."""

    RECEIVED = "received", pgettext_lazy("disclosure step", "Received")
    IDENTITY_CHECKED = "identity_checked", pgettext_lazy("disclosure step", "Identity checked")
    FEE_PAID = "fee_paid", pgettext_lazy("disclosure step", "Fee paid")
    ANSWERED = "answered", pgettext_lazy("disclosure step", "Answered")
    CLOSED = "closed", pgettext_lazy("disclosure step", "Closed")


DISCLOSURE_ORDER = list(DisclosureStatus)


class AnswerMethod(models.TextChoices):
    IN_PERSON = "in_person", _("Handed over at the counter")
    POST = "post", _("Sent by post")


def _from(step: DisclosureStatus) -> Q:
    """Rows at this step or a later one."""
    return Q(status__in=DISCLOSURE_ORDER[DISCLOSURE_ORDER.index(step) :])


class DisclosureRequest(models.Model):
    """A holder's request to see what the service holds about them (R16, terms 11)."""

    record = models.ForeignKey(DriverRecord, on_delete=models.PROTECT, related_name="disclosure_requests")
    reference = models.CharField(_("reference number"), max_length=20, unique=True)
    status = models.CharField(
        _("status"), max_length=16, choices=DisclosureStatus.choices, default=DisclosureStatus.RECEIVED, db_index=True
    )
    requester_kind = models.CharField(_("requested by"), max_length=24, choices=Requester.choices)
    requester_name = models.CharField(_("requester's name"), max_length=100)
    received_on = models.DateField(_("form received on"))
    office = models.ForeignKey(Office, verbose_name=_("office"), on_delete=models.PROTECT, related_name="+")
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("registered by"), on_delete=models.PROTECT, related_name="+"
    )
    registered_at = models.DateTimeField(_("registered at"))
    identity_document = models.CharField(
        _("identity document"), max_length=24, choices=IdentityDocument.choices, blank=True
    )
    identity_note = models.CharField(_("how identity was checked"), max_length=200, blank=True)
    identity_checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("identity checked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    identity_checked_at = models.DateTimeField(_("identity checked at"), null=True, blank=True)
    fee_amount = models.PositiveIntegerField(_("fee (yen)"), null=True, blank=True)
    fee_receipt_number = models.CharField(_("receipt number"), max_length=40, blank=True)
    fee_paid_on = models.DateField(_("fee paid on"), null=True, blank=True)
    fee_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("fee recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    fee_recorded_at = models.DateTimeField(_("fee recorded at"), null=True, blank=True)
    answer_method = models.CharField(_("answered by"), max_length=12, choices=AnswerMethod.choices, blank=True)
    answered_on = models.DateField(_("answered on"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answer recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answer recorded at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["-registered_at", "-id"]
        verbose_name = _("disclosure request")
        verbose_name_plural = _("disclosure requests")
        # No step without the one before it: each later status needs the earlier steps' facts.
        constraints = [
            models.CheckConstraint(
                condition=~_from(DisclosureStatus.IDENTITY_CHECKED)
                | (Q(identity_checked_by__isnull=False, identity_checked_at__isnull=False) & ~Q(identity_document="")),
                name="disclosure_identity_checked_before_later_steps",
            ),
            models.CheckConstraint(
                condition=~_from(DisclosureStatus.FEE_PAID)
                | (
                    Q(fee_amount__isnull=False, fee_paid_on__isnull=False, fee_recorded_by__isnull=False)
                    & ~Q(fee_receipt_number="")
                ),
                name="disclosure_fee_paid_before_later_steps",
            ),
            models.CheckConstraint(
                condition=~_from(DisclosureStatus.ANSWERED)
                | (Q(answered_on__isnull=False, answered_by__isnull=False) & ~Q(answer_method="")),
                name="disclosure_answered_before_closing",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(closed_by__isnull=False, closed_at__isnull=False),
                name="disclosure_closed_complete",
            ),
        ]

    def __str__(self) -> str:
        return self.reference
