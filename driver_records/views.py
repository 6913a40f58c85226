"""Counter pages: holder search and the holder page."""

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from onestop.audit import AuditEntry, audit_log
from onestop.permissions import READERS, role_required

from .forms import RecordSearchForm
from .models import DriverRecord
from .selectors import record_eligibility, record_history, record_search


@role_required(*READERS)
def home(request: HttpRequest) -> HttpResponse:
    form = RecordSearchForm(request.GET or None)
    results = None
    if form.is_valid():
        results = list(record_search(query=form.cleaned_data["q"]))
    return render(request, "driver_records/home.html", {"form": form, "results": results})


@role_required(*READERS)
def record_detail(request: HttpRequest, record_id: int) -> HttpResponse:
    record = get_object_or_404(DriverRecord, pk=record_id)
    with transaction.atomic():
        audit_log(
            AuditEntry(
                action="record.view",
                subject_type="driver_record",
                subject_id=str(record.pk),
                actor=request.user,  # type: ignore[arg-type]
                record_number=record.number,
            )
        )
    context = {
        "record": record,
        "eligibility": record_eligibility(record),
        "history": record_history(record=record),
    }
    return render(request, "driver_records/record_detail.html", context)
