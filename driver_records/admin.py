from django.contrib import admin

from onestop.admin import AppendOnlyAdmin
from onestop.admin_export import CsvExportMixin

from .models import DriverRecord, RecordChange


@admin.register(DriverRecord)
class DriverRecordAdmin(CsvExportMixin, admin.ModelAdmin):
    list_display = ["number", "name", "kind", "holding_status", "prefecture", "cert_serial", "updated_at"]
    list_filter = ["kind", "holding_status", "prefecture"]
    search_fields = ["number", "name_key", "cert_serial"]
    readonly_fields = ["name_key", "version", "jlis_seq", "cert_seq", "created_at", "updated_at"]
    show_full_result_count = False


@admin.register(RecordChange)
class RecordChangeAdmin(CsvExportMixin, AppendOnlyAdmin):
    list_display = ["changed_at", "record", "field", "source", "actor", "jlis_event_id"]
    list_filter = ["source", "field", "changed_at"]
    search_fields = ["record__number", "jlis_event_id"]
    list_select_related = ["record", "actor"]
    date_hierarchy = "changed_at"
