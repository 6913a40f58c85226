"""Counter pages: holder search, the holder page and its holding-status change (the records are
driver_records', read and changed through its selectors and services)."""

from urllib.parse import urlencode

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from driver_records.access import HolderAccess, holder_access, holder_require
from driver_records.forms import HoldingStatusForm, RecordSearchForm
from driver_records.history import history_entries
from driver_records.models import CARD_ONLY_STATUSES, DriverRecord, HoldingStatus
from driver_records.normalise import record_number_input
from driver_records.search_session import search_keep, search_recall
from driver_records.selectors import SearchResult, record_history, record_or_404, record_search, records_all
from driver_records.services import ChangeReasonError, StaleRecordError, record_holding_status_change
from driver_records.templatetags.record_tags import record_url
from onestop.audit import AuditEntry, audit_log
from onestop.audit_actions import AuditAction
from onestop.permissions import COUNTER, READERS, role_required, staff_user

from .feed import record_feed, record_jlis_events
from .governing import record_with_consents
from .holder_eligibility import holder_eligibility
from .selectors import search_rows_with_consent


@role_required(*READERS)
@require_http_methods(["GET", "HEAD", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    """The holder search, as Post/Redirect/Get: the form posts what was typed, and the results
    are shown at `?s=<token>`, so no address the browser keeps names a holder (counter PCs are
    shared; driver_records/search_session.py). `?q=` still searches, for links and tools. The
    form carries no idempotency key: a search changes nothing, and a kept answer would keep
    what was typed."""
    if request.method == "POST":
        return _search_posted(request)
    gone = False
    if "s" in request.GET:
        criteria = search_recall(request.session, request.GET["s"])
        gone = criteria is None
        form = RecordSearchForm(criteria)
    else:
        form = RecordSearchForm(request.GET or None)
    results = more = None
    if form.is_valid():
        found = _search(request, form)
        if found.by_number and found.records:  # an exact record number: the holder, not a list
            return redirect(record_url(found.records[0].pk))
        results, more = search_rows_with_consent(found.records, who=request.user), found.more
    context = {"form": form, "results": results, "more": more, "gone": gone}
    return render(request, "driver_records/home.html", context)


def _search_posted(request: HttpRequest) -> HttpResponse:
    form = RecordSearchForm(request.POST)
    if not form.is_valid():  # answered here: the errors, and what was typed, in no address
        return render(request, "driver_records/home.html", {"form": form, "results": None, "more": None})
    if record_number_input(form.cleaned_data["q"]).isdigit():
        found = _search(request, form)
        if found.records:  # an exact record number: the holder, not a list
            return _see_other(record_url(found.records[0].pk))
    typed_birth_date = form.data.get("birth_date", "").strip()  # shown again as typed
    token = search_keep(request.session, {"q": form.cleaned_data["q"], "birth_date": typed_birth_date})
    return _see_other(f"{reverse('counter:home')}?{urlencode({'s': token})}")


def _see_other(url: str) -> HttpResponse:
    # 303: the browser GETs the next page, and reloading it sends the form again no more.
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def _search(request: HttpRequest, form: RecordSearchForm) -> SearchResult:
    return record_search(query=form.cleaned_data["q"], birth_date=form.cleaned_data["birth_date"], who=request.user)


@role_required(*READERS)
@require_safe
def record_detail(request: HttpRequest, record_id: int) -> HttpResponse:
    record = get_object_or_404(records_all(), pk=record_id)
    if holder_access(request.user, record.prefecture) < HolderAccess.READ:
        return _record_elsewhere(request, record)  # their consents are not read
    record_with_consents(record)
    _audit_view(request, record, AuditAction.RECORD_VIEW)
    context = {
        "record": record,
        "eligibility": holder_eligibility(record, who=request.user),
        "feed": record_feed(record),
        "jlis_events": record_jlis_events(record),
        "holding_form": HoldingStatusForm(record=record),
        "history": history_entries(record_history(record=record)),
    }
    return render(request, "driver_records/record_detail.html", context)


def _audit_view(request: HttpRequest, record: DriverRecord, action: AuditAction) -> None:
    with transaction.atomic():
        audit_log(
            AuditEntry(
                action=action,
                subject_type="driver_record",
                subject_id=str(record.pk),
                actor=staff_user(request),
                record_number=record.number,
            )
        )


def _record_elsewhere(request: HttpRequest, record: DriverRecord) -> HttpResponse:
    """A holder of another prefecture: where they must go, and nothing of their personal data."""
    _audit_view(request, record, AuditAction.RECORD_VIEW_ELSEWHERE)
    context = {"number": record.number, "name": record.name, "prefecture": record.get_prefecture_display()}
    return render(request, "driver_records/record_elsewhere.html", context)


def holding_change_effect(record: DriverRecord, new_status: str) -> str:
    """What recording `new_status` does to the holder's service, in words (R1, R12)."""
    if record.holds_card_only and new_status not in CARD_ONLY_STATUSES:
        return _(
            "Automatic updates from J-LIS stop at once, even within the consent's validity period, and stay "
            "stopped until the holder registers a consent again. The holder can no longer use the service."
        )
    if not record.holds_card_only and new_status in CARD_ONLY_STATUSES:
        if record.feed_stopped_at is not None:
            return _(
                "The holder may use the service again, but automatic updates stopped earlier stay stopped "
                "until the holder registers a consent again."
            )
        return _("The holder may use the service.")
    if record.holds_card_only:
        return _("The holder may still use the service.")
    return _("The holder still cannot use the service.")


@role_required(*COUNTER)
@require_POST
def holding_status_change(request: HttpRequest, record_id: int) -> HttpResponse:
    """R12: recording a change away from the card-only statuses stops the feed at once. The clerk
    gives a reason, then confirms on a page that says what the change does; only the confirmed
    send changes the record. A change of the holder: only staff of the holder's prefecture
    (record_update asks again under lock)."""
    record = record_or_404(pk=record_id)
    holder_require(request.user, record, HolderAccess.WRITE)
    form = HoldingStatusForm(request.POST, record=record)
    context = {"record": record, "form": form}
    if not form.is_valid():
        return render(request, "driver_records/holding_status.html", context)
    new_status = form.cleaned_data["holding_status"]
    if not form.cleaned_data["confirmed"]:
        context |= {
            "confirming": True,
            "new_status": HoldingStatus(new_status).label,
            "effect": holding_change_effect(record, new_status),
            "stops_feed": record.holds_card_only and new_status not in CARD_ONLY_STATUSES,
        }
        return render(request, "driver_records/holding_status.html", context)
    try:
        record_holding_status_change(
            record_id=record.pk,
            expected_version=form.cleaned_data["version"],
            holding_status=new_status,
            reason=form.cleaned_data["reason"],
            actor=staff_user(request),
        )
    except StaleRecordError as stale:
        messages.error(request, str(stale))
    except ChangeReasonError as refused:
        form.add_error("reason", str(refused))
        return render(request, "driver_records/holding_status.html", context)
    else:
        messages.success(request, _("The holding status was recorded."))
    return redirect("counter:record", record_id=record.pk)
