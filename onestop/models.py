"""Cross-cutting models: offices, staff users and the audit trail."""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from .prefectures import PREFECTURE_CHOICES


class Office(models.Model):
    class Kind(models.TextChoices):
        LICENCE_CENTRE = "licence_centre", _("Licence centre")
        POLICE_STATION = "police_station", _("Police station")

    code = models.CharField(_("office code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    prefecture = models.CharField(_("prefecture"), max_length=2, choices=PREFECTURE_CHOICES)
    # Printed on the holder's receipt and revocation slip: where to ask about the consent.
    address = models.CharField(_("office address"), max_length=200, blank=True)
    phone = models.CharField(_("telephone"), max_length=20, blank=True)

    class Meta:
        ordering = ["prefecture", "code"]
        verbose_name = _("office")
        verbose_name_plural = _("offices")

    def __str__(self) -> str:
        return self.name


class StaffManager(UserManager["User"]):
    """Users with their office: every page's header shows it, and the audit trail records it,
    so the request's user (loaded through this manager) comes with it in the same query."""

    def get_queryset(self) -> models.QuerySet[User]:
        return super().get_queryset().select_related("office")


class User(AbstractUser):
    """A staff user. The role is the user's group (see onestop.roles)."""

    office = models.ForeignKey(
        Office,
        verbose_name=_("office"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )

    objects: ClassVar[StaffManager] = StaffManager()

    def get_full_name(self) -> str:
        """Family name first, as a Japanese name is written (Django's default puts the given name
        first: 花子 責任); an ideographic space between Japanese names, as the holders' own."""
        family, given = self.last_name.strip(), self.first_name.strip()
        space = " " if (family + given).isascii() else "\u3000"
        return space.join(part for part in (family, given) if part)

    class Meta(AbstractUser.Meta):  # type: ignore[name-defined]  # django-stubs omit AbstractUser.Meta
        verbose_name = _("staff user")
        verbose_name_plural = _("staff users")


class AuditEventManager(models.Manager["AuditEvent"]):
    """Each row with its link in the chain (`seq`, `prev_hash`, `row_hash`, None while the chainer
    has not linked it yet): the link lives in its own append-only table (AuditLink), since the
    trail's rows are never updated, and this keeps `seq` readable, filterable and sortable as
    before."""

    def get_queryset(self) -> models.QuerySet[AuditEvent]:
        return (
            super()
            .get_queryset()
            .annotate(  # type: ignore[no-redef]  # the attributes AuditEvent declares, None until linked
                seq=models.F("link__seq"), prev_hash=models.F("link__prev_hash"), row_hash=models.F("link__row_hash")
            )
        )


class AuditEvent(models.Model):
    """One append-only row per change or read of a holder's data, written in the transaction of
    the change. The chainer (onestop/audit_chain.py) links it into the hash chain afterwards: its
    AuditLink gives it a gap-free `seq` and a `row_hash`, the SHA-256 of its canonical form, which
    includes the previous link's hash, so altering or removing any row breaks every later link.
    """

    occurred_at = models.DateTimeField(_("occurred at"), db_index=True, editable=False)
    actor = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        db_index=False,  # partial index below
        verbose_name=_("staff account"),
    )
    actor_label = models.CharField(_("actor"), max_length=150, editable=False)
    office = models.ForeignKey(
        Office,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        db_index=False,  # partial index below
        verbose_name=_("office"),
    )
    action = models.CharField(_("action"), max_length=64, editable=False)
    subject_type = models.CharField(_("subject type"), max_length=64, editable=False)
    subject_id = models.CharField(_("subject id"), max_length=64, editable=False)
    record_number = models.CharField(_("record number"), max_length=12, blank=True, editable=False)
    serial = models.CharField(_("certificate serial"), max_length=64, blank=True, editable=False)
    old_values = models.JSONField(_("old values"), default=dict, editable=False)
    new_values = models.JSONField(_("new values"), default=dict, editable=False)
    request_id = models.CharField(_("request id"), max_length=64, blank=True, editable=False)

    objects: ClassVar[AuditEventManager] = AuditEventManager()
    # Set by the manager's annotation (the row's AuditLink); None before the row is linked, and
    # on a row just written.
    seq: int | None = None
    prev_hash: str | None = None
    row_hash: str | None = None

    class Meta:
        ordering = ["-id"]  # newest first, linked or not
        # The J-LIS applier writes one row per change, with no actor or office: those indexes
        # skip its rows, and none has a LIKE twin (the admin's search does not use one).
        indexes = [
            models.Index(fields=["action"], name="audit_action_idx"),
            models.Index(fields=["record_number"], name="audit_record_number_idx"),
            models.Index(fields=["serial"], name="audit_serial_idx"),
            models.Index(fields=["actor"], condition=models.Q(actor__isnull=False), name="audit_actor_idx"),
            models.Index(fields=["office"], condition=models.Q(office__isnull=False), name="audit_office_idx"),
        ]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"#{getattr(self, 'seq', None) or '-'} {self.action} {self.subject_type}:{self.subject_id}"


class AuditLink(models.Model):
    """An audit row's place in the hash chain, made once by the one chainer; append-only like
    the trail (a row is never linked twice: `event` is unique)."""

    seq = models.BigIntegerField(_("sequence number"), primary_key=True, editable=False)
    # No foreign key in the database: the chainer links only rows it has just read, the trail's
    # rows are never deleted, and audit_verify names a link whose row is gone. (A key would also
    # let TRUNCATE of the trail fail on the key before its append-only guard could refuse it.)
    event = models.OneToOneField(
        AuditEvent, on_delete=models.PROTECT, related_name="link", editable=False, db_constraint=False
    )
    prev_hash = models.CharField(_("previous row's hash"), max_length=64, editable=False)
    row_hash = models.CharField(_("this row's hash"), max_length=64, editable=False)

    class Meta:
        verbose_name = _("audit chain link")
        verbose_name_plural = _("audit chain links")

    def __str__(self) -> str:
        return f"audit link #{self.seq}"


class AuditPending(models.Model):
    """An audit row the chainer has not linked yet. On PostgreSQL a trigger on the trail adds one
    for every row inserted (COPY included), so the chainer finds committed, unlinked rows without
    scanning the trail; it deletes them in the transaction that links them."""

    # No foreign key in the database: only the trigger adds these, from the rows it inserted, and
    # a check per audit row would cost the writers.
    event = models.OneToOneField(
        AuditEvent, on_delete=models.PROTECT, primary_key=True, related_name="+", db_constraint=False
    )

    def __str__(self) -> str:
        return f"audit row {self.event_id} waiting for its link"


class AuditChainHead(models.Model):
    """The chain's last link. Only the chainer moves it, holding it locked while it links."""

    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit chain head #{self.last_seq}"


class IdempotentRequest(models.Model):
    """The first answer to a POST carrying an idempotency key, replayed to its repeats."""

    # The principal that was given the answer, "<app>.<model>:<pk>:<digest of its roles and
    # office>" (a user, a terminal): a repeat is replayed only once authenticated as the same one,
    # in the same standing.
    caller = models.CharField(max_length=64)
    key = models.CharField(max_length=128)  # the SHA-256 of the client's key, never the key (R14)
    fingerprint = models.CharField(max_length=64)  # of the method, path and body
    created_at = models.DateTimeField(db_index=True)
    done = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField(default=0)
    headers = models.JSONField(default=dict)
    body = models.BinaryField(default=b"")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["caller", "key"], name="unique_idempotency_key")]

    def __str__(self) -> str:
        return self.key


class IdempotentAnswerHolder(models.Model):
    """A holder an idempotent answer is about: the record number of an audit entry written while
    the answer was made. A suspension erases the holder's answers with them (R15).

    Written in the transaction of the audited change, so no answer about the holder can be kept
    after a suspension has committed. No database constraint on `answer`: a suspension may have
    erased the answer while its request was still running.
    """

    answer = models.ForeignKey(  # indexed by the unique constraint, which starts with it
        IdempotentRequest, on_delete=models.CASCADE, related_name="holders", db_constraint=False, db_index=False
    )
    record_number = models.CharField(max_length=12)

    class Meta:
        indexes = [models.Index(fields=["record_number"], name="idempotent_holder_record_idx")]  # no LIKE twin
        constraints = [
            models.UniqueConstraint(fields=["answer", "record_number"], name="unique_idempotent_answer_holder")
        ]

    def __str__(self) -> str:
        return f"{self.answer_id}:{self.record_number}"


class EnrolmentCode(models.Model):
    """A one-time code an operator gives a staff member in person, without which no authenticator
    can be enrolled (onestop/enrolment.py): the password alone never decides whose phone becomes
    the account's second factor. Only its SHA-256 is kept; it expires, and goes when used."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="+", verbose_name=_("staff account"))
    code_sha256 = models.CharField(_("code's SHA-256"), max_length=64, editable=False)
    expires_at = models.DateTimeField(_("expires at"), editable=False)

    class Meta:
        verbose_name = _("enrolment code")
        verbose_name_plural = _("enrolment codes")

    def __str__(self) -> str:
        return f"enrolment code of user {self.user_id}"  # by id: never the code
