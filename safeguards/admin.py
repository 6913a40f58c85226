"""Read-only admin for auditors: the requests are changed only through their services."""

from django.contrib import admin

from onestop.admin import AppendOnlyAdmin
from onestop.admin_export import CsvExportMixin

from .models import DisclosureRequest, SuspensionRequest


@admin.register(SuspensionRequest)
class SuspensionRequestAdmin(CsvExportMixin, AppendOnlyAdmin):
    list_display = ["pk", "record", "reason_code", "grounds", "status", "proposed_by", "proposed_at", "decided_by"]
    list_filter = ["status", "reason_code", "proposed_at"]
    search_fields = ["record__number", "proposed_by__username", "decided_by__username"]
    list_select_related = ["record", "proposed_by", "decided_by"]
    date_hierarchy = "proposed_at"


@admin.register(DisclosureRequest)
class DisclosureRequestAdmin(CsvExportMixin, AppendOnlyAdmin):
    list_display = ["reference", "record", "status", "requester_kind", "received_on", "office", "closed_at"]
    list_filter = ["status", "requester_kind", "received_on"]
    search_fields = ["reference", "record__number", "fee_receipt_number"]
    list_select_related = ["record", "office"]
    date_hierarchy = "received_on"
