"""Enrolling an authenticator needs a one-time code from an operator, not the password alone.

Without it, whoever had the password of an account with no confirmed device chose its second
factor; and the unconfirmed device's secret was shown to every session of the account until
someone confirmed it, so a stranger who had seen it kept a working copy of the authenticator the
holder of the account then enrolled. Now an operator issues a code (`manage.py enrolment_code`),
hands it over in person, and the code, once, opens an enrolment: a new secret, shown only to the
session that gave the code."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from .audit import AuditEntry, audit_log
from .audit_actions import AuditAction
from .models import EnrolmentCode, User

# Letters only: a code is never a number, so never written like a My Number (R14), and none of
# the letters read like another (I, L, O, U left out). 16 of 22 letters: 71 bits.
ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 16


class EnrolmentRefused(Exception):
    """The account already has an authenticator: withdraw it first (replace=True)."""


def _digest(code: str) -> str:
    typed = "".join(ch for ch in code.upper() if ch.isalnum())  # spaces and hyphens as printed
    return hashlib.sha256(typed.encode()).hexdigest()


def enrolment_code_issue(*, user: User, actor_label: str, replace: bool = False) -> str:
    """A new code for `user` (any earlier one is void), valid ENROLMENT_CODE_HOURS. With `replace`
    the account's authenticators are withdrawn first (a lost phone), which ends its sessions
    (onestop/staff_sessions.py). The code is returned once and never stored."""
    code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    with transaction.atomic():
        devices = TOTPDevice.objects.filter(user=user)
        if devices.filter(confirmed=True).exists() and not replace:
            raise EnrolmentRefused(user.pk)
        withdrawn = devices.delete()[0]
        EnrolmentCode.objects.update_or_create(
            user=user,
            defaults={
                "code_sha256": _digest(code),
                "expires_at": timezone.now() + timedelta(hours=settings.ENROLMENT_CODE_HOURS),
            },
        )
        audit_log(
            AuditEntry(
                action=AuditAction.AUTH_ENROLMENT_CODE_ISSUED,
                subject_type="user",
                subject_id=str(user.pk),
                actor_label=actor_label,
                new_values={"authenticators_withdrawn": withdrawn, "valid_hours": settings.ENROLMENT_CODE_HOURS},
            )
        )
    return "-".join(code[i : i + 4] for i in range(0, LENGTH, 4))


def enrolment_code_redeem(*, user: User, code: str) -> TOTPDevice | None:
    """The code, if it is `user`'s and current, is used up: a new unconfirmed device (any earlier
    one of the account goes, with its secret) for the caller's session alone to show and confirm.
    None for a wrong, used or expired code."""
    with transaction.atomic():
        deleted, _ = EnrolmentCode.objects.filter(
            user=user, code_sha256=_digest(code), expires_at__gt=timezone.now()
        ).delete()
        if not deleted:
            return None
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
