from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from onestop.admin import AppendOnlyAdmin
from onestop.admin_export import CsvExportMixin

from .models import DriverRecord, RecordChange


@admin.register(DriverRecord)
class DriverRecordAdmin(CsvExportMixin, admin.ModelAdmin):
    list_display = ["number", "name", "kind", "holding_status", "prefecture", "cert_serial", "updated_at"]
    list_filter = ["kind", "holding_status", "prefecture"]
    search_fields = ["number", "name_key", "cert_serial"]
    # service_stopped_at (R15): only a confirmed suspension sets it (safeguards), never the admin.
    readonly_fields = ["name_key", "version", "jlis_seq", "cert_seq", "service_stopped_at", "created_at", "updated_at"]
    # R12: the counter of residence records a holding status through its service (history, audit
    # trail, the feed stopped); the admin's plain save shows it and the stop, and changes neither.
    # (The database's trigger would stop the feed anyway: driver_records/migrations, R12.)
    readonly_on_change = ["holding_status", "holding_status_changed_at", "feed_stopped_at"]
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: DriverRecord | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        return fields + self.readonly_on_change if obj is not None else fields


@admin.register(RecordChange)
class RecordChangeAdmin(CsvExportMixin, AppendOnlyAdmin):
    list_display = ["changed_at", "record", "field", "source", "actor", "jlis_event_id"]
    list_filter = ["source", "field", "changed_at"]
    search_fields = ["record__number", "jlis_event_id"]
    list_select_related = ["record", "actor"]
    date_hierarchy = "changed_at"
