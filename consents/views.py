"""Counter pages: start a consent, the statement to sign, the receipt, revocation, Mynaportal linkage."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from driver_records.access import HolderAccess, holder_require
from driver_records.selectors import record_or_404
from jlis_gateway.selectors import outbox_failures, outbox_message
from onestop.audit import AuditEntry, audit_log
from onestop.audit_actions import AuditAction
from onestop.permissions import COUNTER, READERS, SUPERVISORS, role_required, staff_user
from onestop.roles import is_supervisor
from onestop.templatetags.section_messages import message_at

from .errors import ConsentRefused, explain
from .forms import DemoSignForm, ItemsForm, MynaportalLinkForm, RevokeForm, WithdrawForm
from .models import Consent, ConsentStatement, ConsentStatus
from .period import japan_date
from .selectors import WORKLIST_ROWS, consent_in_force, items_label, office_worklist, pending_warning
from .services import consent_register, consent_revoke, consent_withdraw, mynaportal_link_record, statement_create
from .services.resend import ResendRefused, outbox_resend, resend_refusal

logger = logging.getLogger(__name__)

# How often the statement page asks whether the holder has signed (static/js/statement_wait.js).
STATEMENT_POLL_SECONDS = 3
MYNAPORTAL_SECTION = "mynaportal"  # the linkage's anchor on the holder page (record_section.html)


def _record_page(record_id: int, *, section: str = "") -> HttpResponse:
    """The holder page; at `section` (its anchor) when the action was taken there, so the clerk
    lands where they acted and reads its message there (onestop.templatetags.section_messages)."""
    url = reverse("counter:record", args=[record_id])
    return redirect(f"{url}#{section}" if section else url)


@role_required(*COUNTER)
@require_POST
def statement_new(request: HttpRequest, record_id: int) -> HttpResponse:
    record = record_or_404(pk=record_id)
    holder_require(request.user, record, HolderAccess.WRITE)  # R4 (the service says why in words)
    form = ItemsForm(request.POST)
    if not form.is_valid():
        messages.error(request, explain("no_items"))
        return _record_page(record.pk)
    try:
        statement = statement_create(record_id=record.pk, items=form.cleaned_data["items"], actor=staff_user(request))
    except ConsentRefused as refusal:
        messages.error(request, refusal.message)
        return _record_page(record.pk)
    return redirect("consents:statement", statement.pk)


def _own_statement(request: HttpRequest, statement_id: int) -> ConsentStatement:
    statement = get_object_or_404(
        ConsentStatement.objects.select_related("record", "office", "terms_version"), pk=statement_id
    )
    if statement.office_id != getattr(request.user, "office_id", None):
        raise PermissionDenied  # a statement is seen only at the office that made it
    holder_require(request.user, statement.record, HolderAccess.WRITE)  # and while the holder lives there
    return statement


@role_required(*COUNTER)
@require_safe
def statement_detail(request: HttpRequest, statement_id: int) -> HttpResponse:
    statement = _own_statement(request, statement_id)
    consent = Consent.objects.filter(statement=statement).first()
    if consent is not None:  # signed (here or at the terminal): the result is the receipt
        return redirect("consents:receipt", consent.pk)
    context = {
        "statement": statement,
        "record": statement.record,
        "items_label": items_label(statement.items),
        "expired": statement.expires_at <= timezone.now(),
        "refusal": explain(statement.refused_code) if statement.refused_code else "",
        "demo_form": DemoSignForm() if settings.DEMO_MODE else None,
        "warning": pending_warning(record=statement.record),  # R6: which consent will govern
        "poll_seconds": STATEMENT_POLL_SECONDS,
    }
    return render(request, "consents/statement.html", context)


@role_required(*COUNTER)
@require_POST
def statement_demo_sign(request: HttpRequest, statement_id: int) -> HttpResponse:
    """Demo mode only: the record's demo card signs the statement, as the terminal would."""
    if not settings.DEMO_MODE:
        raise Http404
    from .jpki.democard import demo_card_for  # demo-only: production never loads test keys

    statement = _own_statement(request, statement_id)
    form = DemoSignForm(request.POST)
    card = demo_card_for(statement.record)
    signature = card.sign(statement.text.encode("utf-8"))
    if form.is_valid() and form.cleaned_data["variant"] == "tampered":
        signature = bytes([signature[0] ^ 0x01]) + signature[1:]
    try:
        consent = consent_register(
            statement_id=statement.pk,
            signature=signature,
            certificate_der=card.certificate_der,
            actor=staff_user(request),
        )
    except ConsentRefused as refusal:
        messages.error(request, refusal.message)
        return redirect("consents:statement", statement.pk)
    messages.success(request, _("The consent is registered and waits for J-LIS to reflect it."))
    return redirect("consents:receipt", consent.pk)


def _audit_view(request: HttpRequest, consent: Consent) -> None:
    """Every view of a consent's page for the holder (receipt, slip) is audited."""
    with transaction.atomic():
        audit_log(
            AuditEntry(
                action=AuditAction.CONSENT_VIEW,
                subject_type="consent",
                subject_id=str(consent.pk),
                actor=staff_user(request),
                record_number=consent.record.number,
            )
        )


@role_required(*READERS)
@require_safe
def consent_receipt(request: HttpRequest, consent_id: int) -> HttpResponse:
    consent = get_object_or_404(
        Consent.objects.select_related("record", "office", "terms_version", "clerk"), pk=consent_id
    )
    holder_require(request.user, consent.record, HolderAccess.READ)
    _audit_view(request, consent)
    context = {
        "consent": consent,
        "record": consent.record,
        "items_label": items_label(consent.items),
        "in_force": consent_in_force(consent),
    }
    return render(request, "consents/receipt.html", context)


@role_required(*SUPERVISORS)
def consent_revoke_view(request: HttpRequest, consent_id: int) -> HttpResponse:
    """R9: a supervisor revokes, with a reason, after a confirmation step."""
    consent = get_object_or_404(Consent.objects.select_related("record", "terms_version"), pk=consent_id)
    holder_require(request.user, consent.record, HolderAccess.WRITE)  # R9: at the counter of residence
    form = RevokeForm(request.POST or None)
    context = {"consent": consent, "record": consent.record, "items_label": items_label(consent.items), "form": form}
    if request.method != "POST" or not form.is_valid():
        return render(request, "consents/revoke.html", context)
    if not form.cleaned_data["confirmed"]:
        return render(request, "consents/revoke.html", {**context, "confirming": True})
    try:
        consent_revoke(consent_id=consent.pk, actor=staff_user(request), reason=form.cleaned_data["reason"])
    except ConsentRefused as refusal:
        messages.error(request, refusal.message)
        return render(request, "consents/revoke.html", context)
    messages.success(request, _("The consent is revoked. J-LIS will be told."))
    return redirect("consents:revocation-slip", consent.pk)  # the holder leaves with a slip


@role_required(*SUPERVISORS)
def consent_withdraw_view(request: HttpRequest, consent_id: int) -> HttpResponse:
    """A supervisor withdraws a pending consent taken by mistake, with a reason, after a
    confirmation step; J-LIS is told never to reflect it (consents/services/withdrawal.py)."""
    consent = get_object_or_404(Consent.objects.select_related("record", "terms_version", "office"), pk=consent_id)
    holder_require(request.user, consent.record, HolderAccess.WRITE)  # at the counter of residence
    form = WithdrawForm(request.POST or None)
    context = {
        "consent": consent,
        "record": consent.record,
        "items_label": items_label(consent.items),
        "form": form,
        "withdrawable": consent.status == ConsentStatus.PENDING,
    }
    if request.method != "POST" or not form.is_valid():
        return render(request, "consents/withdraw.html", context)
    if not form.cleaned_data["confirmed"]:
        return render(request, "consents/withdraw.html", {**context, "confirming": True})
    try:
        consent_withdraw(consent_id=consent.pk, actor=staff_user(request), reason=form.cleaned_data["reason"])
    except ConsentRefused as refusal:
        consent.refresh_from_db()
        messages.error(request, refusal.message)
        return render(request, "consents/withdraw.html", {**context, "withdrawable": False, "refusal": refusal})
    messages.success(request, _("The consent is withdrawn. J-LIS will be told not to reflect it."))
    return _record_page(consent.record_id)


@role_required(*READERS)
@require_safe
def revocation_slip(request: HttpRequest, consent_id: int) -> HttpResponse:
    """The holder's slip for a revoked consent: what, when, why, and where (R9)."""
    consent = get_object_or_404(Consent.objects.select_related("record", "revoked_by__office"), pk=consent_id)
    # Scope first: another prefecture learns nothing, not even whether the consent was revoked.
    holder_require(request.user, consent.record, HolderAccess.READ)
    if consent.status != ConsentStatus.REVOKED:
        raise Http404
    _audit_view(request, consent)
    revoked_by = consent.revoked_by
    context = {
        "consent": consent,
        "record": consent.record,
        "items_label": items_label(consent.items),
        "revoked_day": japan_date(consent.revoked_at) if consent.revoked_at else None,
        # At the counter, the revoking staff member's office; through Mynaportal or JPKI Mobile, none.
        "office": revoked_by.office if revoked_by is not None else None,
    }
    return render(request, "consents/revocation_slip.html", context)


@role_required(*COUNTER)
@require_POST
def mynaportal_link(request: HttpRequest, record_id: int) -> HttpResponse:
    record = record_or_404(pk=record_id)
    holder_require(request.user, record, HolderAccess.WRITE)
    form = MynaportalLinkForm(request.POST)
    here = message_at(MYNAPORTAL_SECTION)
    if not form.is_valid():
        # ErrorList's [] gives the message; django-stubs omit its __getitem__.
        messages.error(request, form.errors["confirmed"][0], extra_tags=here)  # type: ignore[arg-type]
        return _record_page(record.pk, section=MYNAPORTAL_SECTION)
    try:
        mynaportal_link_record(record_id=record.pk, actor=staff_user(request))
    except ConsentRefused as refusal:
        messages.error(request, refusal.message, extra_tags=here)
    else:
        messages.success(request, _("Mynaportal linkage is recorded."), extra_tags=here)
    return _record_page(record.pk, section=MYNAPORTAL_SECTION)


@role_required(*COUNTER)
@require_safe
def worklist(request: HttpRequest) -> HttpResponse:
    """The office's worklist: today's registrations and revocations here, the consents waiting
    for J-LIS and the messages to J-LIS that failed, for the holders this office serves."""
    failures = outbox_failures(who=request.user, limit=WORKLIST_ROWS)
    context = {
        "day": office_worklist(who=request.user),
        "failures": failures,
        # A supervisor may send again a message the relay gave up on (outbox_resend_view).
        "resendable": {m.pk for m in failures if resend_refusal(m) is None} if is_supervisor(request.user) else set(),
        "rows": WORKLIST_ROWS,
    }
    return render(request, "consents/worklist.html", context)


@role_required(*SUPERVISORS)
@require_http_methods(["GET", "HEAD", "POST"])
def outbox_resend_view(request: HttpRequest, message_id: int) -> HttpResponse:
    """Send again a message the relay gave up on: the page says what will be sent, the POST
    with its confirmation does it (the service asks again under lock)."""
    message = outbox_message(message_id=message_id)
    if message is None:
        raise Http404
    holder_require(request.user, message.consent.record, HolderAccess.WRITE)  # R4: the holder's counters
    refusal = resend_refusal(message)
    context = {
        "message": message,
        "record": message.consent.record,
        "refusal": ResendRefused(refusal) if refusal else None,
    }
    if request.method != "POST" or request.POST.get("confirmed") != "1":
        return render(request, "consents/resend.html", context)
    try:
        outbox_resend(message_id=message.pk, actor=staff_user(request))
    except ResendRefused as refused:
        messages.error(request, refused.message)
        return render(request, "consents/resend.html", context)
    logger.info("outbox row %s sent again by user %s", message.pk, request.user.pk)
    messages.success(request, _("The message will be sent to J-LIS again, with the same key."))
    return redirect("consents:worklist")
