from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from .admin_export import CsvExportMixin
from .models import AuditEvent, Office, User


class AppendOnlyAdmin(admin.ModelAdmin):
    """For rows nobody may add, change or delete through the admin."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Office)
class OfficeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "prefecture"]
    list_filter = ["kind", "prefecture"]
    search_fields = ["code", "name"]


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    list_display = ["username", "office", "is_active", "is_staff", "last_login"]
    list_filter = ["groups", "office__prefecture", "is_active"]
    fieldsets = (*UserAdmin.fieldsets, ("onestop", {"fields": ("office",)}))


@admin.register(AuditEvent)
class AuditEventAdmin(CsvExportMixin, AppendOnlyAdmin):
    list_display = [
        "seq",
        "occurred_at",
        "actor_label",
        "office",
        "action",
        "subject_type",
        "subject_id",
        "record_number",
    ]
    list_filter = ["action", "subject_type", "occurred_at"]
    search_fields = ["record_number", "serial", "actor_label", "subject_id", "request_id"]
    date_hierarchy = "occurred_at"
    list_select_related = ["office"]
    show_full_result_count = False
