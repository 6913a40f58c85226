from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from .admin_export import CsvExportMixin
from .audit_checkpoints import audit_checkpoints_overview
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
    change_list_template = "admin/onestop/auditevent/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(require_GET(self.checkpoints_view))
        return [path("checkpoints/", view, name="onestop_auditevent_checkpoints"), *super().get_urls()]

    def checkpoints_view(self, request: HttpRequest) -> HttpResponse:
        """The signed checkpoints of the chain, for auditors: read only, nothing to change."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Signed checkpoints of the audit trail"),
            "overview": audit_checkpoints_overview(),
            "interval_minutes": settings.AUDIT_CHECKPOINT_SECONDS // 60,
        }
        return TemplateResponse(request, "admin/onestop/auditevent/checkpoints.html", context)
