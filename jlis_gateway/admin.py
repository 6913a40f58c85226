from django.contrib import admin

from onestop.admin import AppendOnlyAdmin
from onestop.admin_export import CsvExportMixin

from .models import JlisEvent, OutboxMessage, PollState, QuarantinedEvent


@admin.register(JlisEvent)
class JlisEventAdmin(CsvExportMixin, AppendOnlyAdmin):
    list_display = ["event_id", "kind", "serial", "holder_seq", "status", "reason", "received_at"]
    list_filter = ["kind", "status", "reason", "received_at"]
    search_fields = ["=event_id", "=serial", "=jlis_consent_id"]
    date_hierarchy = "received_at"
    show_full_result_count = False


@admin.register(QuarantinedEvent)
class QuarantinedEventAdmin(AppendOnlyAdmin):
    list_display = ["id", "received_at", "event_id", "reason", "paths", "body_sha256", "resolved_at"]
    list_filter = ["resolved_at"]


@admin.register(PollState)
class PollStateAdmin(AppendOnlyAdmin):
    list_display = ["name", "cursor", "last_success_at", "last_attempt_at", "last_error"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(CsvExportMixin, AppendOnlyAdmin):
    list_display = ["id", "kind", "consent", "status", "attempts", "next_attempt_at", "sent_at", "last_error"]
    list_filter = ["kind", "status"]
    search_fields = ["consent__reference", "consent__record__number"]
