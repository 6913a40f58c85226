"""Pages for supervisors, which auditors may read: suspension proposals and their four-eyes
decision (R15), disclosure requests and their printable report (R16). Every page that shows a
holder's data is audited; auditors' POSTs are refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from consents.models import ConsentStatus
from driver_records.access import HolderAccess, holder_require
from driver_records.models import DriverRecord
from driver_records.selectors import record_or_404
from onestop.audit import AuditEntry, audit_log
from onestop.audit_actions import AuditAction
from onestop.permissions import OVERSIGHT, SUPERVISORS, role_required, staff_user
from onestop.roles import is_supervisor

from . import forms, services
from .errors import SafeguardRefused, explain
from .models import DisclosureRequest, DisclosureStatus, SuspensionRequest, SuspensionStatus
from .report import disclosure_report
from .selectors import (
    disclosures_closed,
    disclosures_open,
    holder_events,
    holder_keys,
    suspensions_decided,
    suspensions_waiting,
)
from .services.erasure import ERASED_KINDS

REPORT_READY = (DisclosureStatus.FEE_PAID, DisclosureStatus.ANSWERED, DisclosureStatus.CLOSED)


def _in_scope(request: HttpRequest, record: DriverRecord) -> None:
    """The object-scope rule: supervisors read and act for the holders of their prefecture;
    auditors read everyone's (and never act: _refuse_readers)."""
    need = HolderAccess.READ if request.method in ("GET", "HEAD") else HolderAccess.WRITE
    holder_require(request.user, record, need)


def _refuse_readers(request: HttpRequest) -> None:
    if request.method == "POST" and not is_supervisor(request.user):
        raise PermissionDenied  # auditors read, never change


def _audit_view(
    request: HttpRequest, action: AuditAction, subject_type: str, subject: Any, record: DriverRecord
) -> None:
    with transaction.atomic():
        audit_log(
            AuditEntry(
                action=action,
                subject_type=subject_type,
                subject_id=str(subject.pk),
                actor=staff_user(request),
                record_number=record.number,
            )
        )


@role_required(*OVERSIGHT)
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    context = {
        "waiting": suspensions_waiting(user=user),  # type: ignore[arg-type]
        "decided": suspensions_decided(user=user),  # type: ignore[arg-type]
        "open_disclosures": disclosures_open(user=user),  # type: ignore[arg-type]
        "closed_disclosures": disclosures_closed(user=user),  # type: ignore[arg-type]
    }
    return render(request, "safeguards/home.html", context)


# --- Suspension (R15) ---------------------------------------------------------------------------


@role_required(*SUPERVISORS)
def suspension_propose(request: HttpRequest, record_id: int) -> HttpResponse:
    record = record_or_404(pk=record_id)
    _in_scope(request, record)
    form = forms.SuspensionProposeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            proposal = services.suspension_propose(record_id=record.pk, actor=staff_user(request), **form.cleaned_data)
        except SafeguardRefused as refusal:
            messages.error(request, refusal.message)
        else:
            messages.success(request, _("The suspension is proposed. A different supervisor must confirm it."))
            return redirect("safeguards:suspension", proposal.pk)
    return render(request, "safeguards/suspension_propose.html", {"record": record, "form": form})


def _decision_refusal(request: HttpRequest, proposal: SuspensionRequest) -> str | None:
    if proposal.status != SuspensionStatus.PROPOSED:
        return "already_decided"
    if proposal.proposed_by_id == request.user.pk:
        return "own_proposal"
    return None


@role_required(*OVERSIGHT)
def suspension_detail(request: HttpRequest, suspension_id: int) -> HttpResponse:
    proposal = get_object_or_404(
        SuspensionRequest.objects.select_related("record", "proposed_by", "decided_by", "office"), pk=suspension_id
    )
    record = proposal.record
    _in_scope(request, record)
    _refuse_readers(request)
    refusal = _decision_refusal(request, proposal) if is_supervisor(request.user) else None
    form = forms.SuspensionDecisionForm(request.POST or None)
    keys = holder_keys(record)
    context: dict[str, Any] = {
        "proposal": proposal,
        "record": record,
        "form": form,
        "refusal": explain(refusal) if refusal else "",
        "can_decide": is_supervisor(request.user) and refusal is None,
        "consents_to_suspend": record.consents.filter(status__in=[ConsentStatus.PENDING, ConsentStatus.ACTIVE]).count(),
        "consents_held": record.consents.count(),
        "events_held": holder_events(keys).count(),
        "erased_kinds": ERASED_KINDS.values(),
        "erased": [(ERASED_KINDS.get(kind, kind), count) for kind, count in proposal.erased.items()],
    }
    if request.method != "POST":
        _audit_view(request, AuditAction.SUSPENSION_VIEW, "suspension_request", proposal, record)
        return render(request, "safeguards/suspension_detail.html", context)
    if refusal is not None:
        messages.error(request, explain(refusal))
        return render(request, "safeguards/suspension_detail.html", context)
    if not form.is_valid():
        return render(request, "safeguards/suspension_detail.html", context)
    data = form.cleaned_data
    if not data["confirmed"]:
        return render(request, "safeguards/suspension_detail.html", {**context, "confirming": data["decision"]})
    try:
        if data["decision"] == form.CONFIRM:
            services.suspension_confirm(request_id=proposal.pk, actor=staff_user(request), note=data["note"])
            messages.success(request, _("The service is stopped for this holder and the collected data is erased."))
        else:
            services.suspension_reject(request_id=proposal.pk, actor=staff_user(request), note=data["note"])
            messages.success(request, _("The proposal is rejected. Nothing was changed for the holder."))
    except SafeguardRefused as failure:
        messages.error(request, failure.message)
        return render(request, "safeguards/suspension_detail.html", context)
    return redirect("safeguards:suspension", proposal.pk)


# --- Disclosure requests (R16) ------------------------------------------------------------------


@role_required(*SUPERVISORS)
def disclosure_new(request: HttpRequest, record_id: int) -> HttpResponse:
    record = record_or_404(pk=record_id)
    _in_scope(request, record)
    form = forms.DisclosureRegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            disclosure = services.disclosure_register(
                record_id=record.pk, actor=staff_user(request), **form.cleaned_data
            )
        except SafeguardRefused as refusal:
            messages.error(request, refusal.message)
        else:
            messages.success(request, _("The disclosure request is registered."))
            return redirect("safeguards:disclosure", disclosure.pk)
    return render(request, "safeguards/disclosure_new.html", {"record": record, "form": form})


# The step a status waits for: (POSTed step name, form, service).
# Each step: its name, its form and the service it calls.
NEXT_STEP: dict[str, tuple[str, type[Form], Callable[..., object]]] = {
    DisclosureStatus.RECEIVED: ("identity", forms.IdentityCheckForm, services.disclosure_identity_check),
    DisclosureStatus.IDENTITY_CHECKED: ("fee", forms.FeeForm, services.disclosure_fee_record),
    DisclosureStatus.FEE_PAID: ("answer", forms.AnswerForm, services.disclosure_answer),
    DisclosureStatus.ANSWERED: ("close", forms.CloseForm, services.disclosure_close),
}
STEPS = {name: (form, service) for name, form, service in NEXT_STEP.values()}


@role_required(*OVERSIGHT)
def disclosure_detail(request: HttpRequest, disclosure_id: int) -> HttpResponse:
    disclosure = get_object_or_404(DisclosureRequest.objects.select_related("record", "office"), pk=disclosure_id)
    record = disclosure.record
    _in_scope(request, record)
    _refuse_readers(request)
    step, form_class, _service = NEXT_STEP.get(disclosure.status, (None, None, None))
    form = form_class() if form_class and is_supervisor(request.user) else None
    if request.method == "POST":
        posted = request.POST.get("step", "")
        if posted not in STEPS:
            messages.error(request, explain("not_in_order"))
            return redirect("safeguards:disclosure", disclosure.pk)
        form_class, service = STEPS[posted]
        posted_form = form_class(request.POST)
        if posted_form.is_valid():
            data = {k: v for k, v in posted_form.cleaned_data.items() if k != "confirmed"}
            try:
                service(request_id=disclosure.pk, actor=staff_user(request), **data)
            except SafeguardRefused as refusal:
                messages.error(request, refusal.message)
            else:
                messages.success(request, _("The step is recorded."))
            return redirect("safeguards:disclosure", disclosure.pk)
        if posted == step:
            form = posted_form  # show its errors
        else:
            messages.error(request, explain("not_in_order"))
    else:
        _audit_view(request, AuditAction.DISCLOSURE_VIEW, "disclosure_request", disclosure, record)
    context = {
        "disclosure": disclosure,
        "record": record,
        "step": step,
        "form": form,
        "report_ready": disclosure.status in REPORT_READY,
    }
    return render(request, "safeguards/disclosure_detail.html", context)


@role_required(*OVERSIGHT)
@require_GET
def disclosure_report_view(request: HttpRequest, disclosure_id: int) -> HttpResponse:
    disclosure = get_object_or_404(DisclosureRequest.objects.select_related("record", "office"), pk=disclosure_id)
    _in_scope(request, disclosure.record)
    if disclosure.status not in REPORT_READY:
        messages.error(request, explain("report_not_ready"))
        return redirect("safeguards:disclosure", disclosure.pk)
    _audit_view(request, AuditAction.DISCLOSURE_REPORT, "disclosure_request", disclosure, disclosure.record)
    report = disclosure_report(request=disclosure)
    return render(request, "safeguards/disclosure_report.html", {"report": report, "record": report.record})
