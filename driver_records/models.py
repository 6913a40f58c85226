"""Driver records (licences and driving-history certificates) and their change history."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import StrIndex, Substr
from django.utils.translation import gettext_lazy as _

from onestop.prefectures import PREFECTURE_CHOICES, prefecture_of_address, prefecture_of_address_sql

from .normalise import KEY_SEPARATOR, NAME_KEY_LENGTH

record_number_validator = RegexValidator(
    r"^[0-9]{12}$", _("A record number is exactly 12 digits."), code="record_number_shape"
)


def address_begins_with_prefecture(value: str) -> None:
    """R4: the holder's prefecture of residence is read from the address, which JPKI writes from
    the prefecture on."""
    if prefecture_of_address(value) is None:
        raise ValidationError(
            _("An address begins with its prefecture (for example 東京都 or 大阪府)."), code="address_prefecture"
        )


class RecordKind(models.TextChoices):
    LICENCE = "licence", _("Driver's licence (免許)")
    DRIVING_HISTORY = "driving_history", _("Driving-history certificate (運転経歴証明書)")


class HoldingStatus(models.TextChoices):
    """The terms' names (免許証のみ, マイナ免許証のみ, 2枚持ち ...) are the Japanese catalogue's."""

    LICENCE_PLASTIC_ONLY = "licence_plastic_only", _("Plastic licence only")
    LICENCE_CARD_ONLY = "licence_card_only", _("Licence on the My Number card only")
    LICENCE_BOTH = "licence_both", _("Two cards (plastic licence and My Number card)")
    HISTORY_PLASTIC_ONLY = "history_plastic_only", _("Plastic driving-history certificate only")
    HISTORY_CARD_ONLY = "history_card_only", _("Driving history on the My Number card only")
    HISTORY_BOTH = "history_both", _("Both driving-history certificate and My Number card")


HOLDING_STATUSES_BY_KIND: dict[str, frozenset[str]] = {
    RecordKind.LICENCE: frozenset(
        {HoldingStatus.LICENCE_PLASTIC_ONLY, HoldingStatus.LICENCE_CARD_ONLY, HoldingStatus.LICENCE_BOTH}
    ),
    RecordKind.DRIVING_HISTORY: frozenset(
        {HoldingStatus.HISTORY_PLASTIC_ONLY, HoldingStatus.HISTORY_CARD_ONLY, HoldingStatus.HISTORY_BOTH}
    ),
}
CARD_ONLY_STATUSES = frozenset({HoldingStatus.LICENCE_CARD_ONLY, HoldingStatus.HISTORY_CARD_ONLY})


class DriverRecord(models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=RecordKind.choices)
    # Unique by a constraint, not `unique=True`: the field's option would add a LIKE twin index
    # that no read uses and every applied event writes (tests/onestop/test_write_indexes.py).
    number = models.CharField(_("record number"), max_length=12, validators=[record_number_validator])
    name = models.CharField(_("name"), max_length=100)
    # name_search_key(name): the whole name folded, a space, the given name folded (normalise.py).
    # Searched by prefix through record_name_search_idx ("C" order): no index of its own.
    name_key = models.CharField(_("search key"), max_length=NAME_KEY_LENGTH, editable=False)
    # The given name's part of the key, kept by the database whatever writes name_key.
    given_key = models.GeneratedField(
        expression=Substr("name_key", StrIndex("name_key", Value(KEY_SEPARATOR)) + 1),
        output_field=models.CharField(max_length=NAME_KEY_LENGTH),
        db_persist=True,
        verbose_name=_("given-name search key"),
    )
    birth_date = models.DateField(_("date of birth"))
    address = models.CharField(_("address"), max_length=200, validators=[address_begins_with_prefecture])
    # R4: the prefecture of residence follows the address wherever it changes: the database derives
    # it ("" for an address that names no prefecture: no office serves such a record).
    prefecture = models.GeneratedField(
        expression=prefecture_of_address_sql("address"),
        output_field=models.CharField(max_length=2, choices=PREFECTURE_CHOICES),
        db_persist=True,
        verbose_name=_("prefecture of residence"),
        choices=PREFECTURE_CHOICES,
    )
    holding_status = models.CharField(_("holding status"), max_length=24, choices=HoldingStatus.choices)
    holding_status_changed_at = models.DateTimeField(_("holding status changed at"), null=True, blank=True)
    # Set when the holding status leaves the card-only statuses (R12): the feed stays stopped for
    # consents registered before it, even if the status comes back.
    feed_stopped_at = models.DateTimeField(_("feed stopped at"), null=True, blank=True)
    # R15: when a second supervisor confirmed stopping the service for the holder (safeguards).
    # Set once and never cleared: a suspension is final. Consents, the feed and the door read it
    # here, so they need not know the safeguards app.
    service_stopped_at = models.DateTimeField(_("service stopped at"), null=True, blank=True, editable=False)
    cert_serial = models.CharField(_("signing certificate serial"), max_length=64, blank=True)
    cert_issuer_key_id = models.CharField(_("issuer key id"), max_length=64, blank=True)
    cert_not_after = models.DateTimeField(_("certificate valid until"), null=True, blank=True)
    jlis_seq = models.BigIntegerField(_("last applied J-LIS sequence"), default=0)
    # R10/R13: the holder sequence of the J-LIS event the linked serial comes from. The link only
    # moves forward (applier/decide.py: link_moves); the data follow their own sequence (jlis_seq).
    cert_seq = models.BigIntegerField(_("J-LIS sequence of the linked serial"), default=0)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["number"]
        verbose_name = _("driver record")
        verbose_name_plural = _("driver records")
        constraints = [
            models.UniqueConstraint(fields=["number"], name="record_number_unique"),
            models.UniqueConstraint(
                fields=["cert_serial", "cert_issuer_key_id"],
                condition=~Q(cert_serial=""),
                name="unique_linked_certificate",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind=RecordKind.LICENCE, holding_status__startswith="licence_")
                    | Q(kind=RecordKind.DRIVING_HISTORY, holding_status__startswith="history_")
                ),
                name="holding_status_matches_kind",
            ),
        ]
        indexes = [
            models.Index(fields=["cert_serial"], name="record_cert_serial_idx"),
            # A name with a birthdate: the day's few holders, then their names.
            models.Index(fields=["birth_date"], name="record_birth_date_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        # The database recomputed the prefecture from the address: read it again when next needed.
        self.__dict__.pop("prefecture", None)

    @property
    def holds_card_only(self) -> bool:
        return self.holding_status in CARD_ONLY_STATUSES

    @property
    def service_stopped(self) -> bool:
        """R15: the service is stopped for this holder (as this instance read it)."""
        return self.service_stopped_at is not None


class ChangeSource(models.TextChoices):
    COUNTER = "counter", _("Counter")
    JLIS = "jlis", _("J-LIS event")
    ADMIN = "admin", _("Admin")


class RecordChange(models.Model):
    """One changed field of a record: what it was, what it became, who or what changed it."""

    record = models.ForeignKey(DriverRecord, on_delete=models.PROTECT, related_name="changes")
    field = models.CharField(_("field"), max_length=40)
    old_value = models.TextField(_("old value"), blank=True)
    new_value = models.TextField(_("new value"), blank=True)
    source = models.CharField(_("source"), max_length=10, choices=ChangeSource.choices)
    actor = models.ForeignKey(  # indexed only where set: J-LIS's changes have no actor
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    jlis_event_id = models.CharField(_("J-LIS event id"), max_length=64, blank=True)
    changed_at = models.DateTimeField(_("changed at"), db_index=True)
    # Why staff made the change (a holding-status change asks for one, R12); never a My Number (R14).
    # The database's default too: the applier's bulk COPY names only the columns it fills.
    reason = models.CharField(_("reason for the change"), max_length=500, blank=True, default="", db_default="")

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [
            # The serials a record was linked to before: an event about one is an old event.
            models.Index(fields=["old_value"], condition=Q(field="cert_serial"), name="record_change_old_serial_idx"),
            models.Index(fields=["actor"], condition=Q(actor__isnull=False), name="record_change_actor_idx"),
        ]
        verbose_name = _("record change")
        verbose_name_plural = _("record changes")
        constraints = [
            # An event changes a field at most once: re-applying it cannot write history twice.
            models.UniqueConstraint(
                fields=["jlis_event_id", "record", "field"],
                condition=~Q(jlis_event_id=""),
                name="one_change_per_event_field",
            )
        ]

    def __str__(self) -> str:
        return f"{self.record_id}.{self.field}"
