from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from .admin_export import CsvExportMixin
from .audit import compute_hash
from .audit_checkpoints import audit_checkpoints_overview
from .audit_labels import action_label, subject_label
from .enrolment import enrolment_code_issue
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
    # django-stubs type ModelAdmin.fieldsets as optional; Django's UserAdmin sets it.
    fieldsets = (*UserAdmin.fieldsets, ("onestop", {"fields": ("office",)}))  # type: ignore[misc]
    actions = ["issue_enrolment_codes"]

    @admin.action(description=_("Issue second-factor enrolment codes (withdraws their authenticators)"))
    def issue_enrolment_codes(self, request: HttpRequest, queryset: Any) -> HttpResponse:
        """A one-time code for each chosen active account, shown on this page only, once (as
        `manage.py enrolment_code --replace`): a new account, or a lost phone. The page is not
        kept by the browser (no-store) and nothing else shows the codes again."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        actor = request.user.get_username()
        codes = [
            (user, enrolment_code_issue(user=user, actor_label=actor, replace=True))
            for user in queryset.filter(is_active=True).order_by("username")
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Enrolment codes"),
            "codes": codes,
            "valid_hours": settings.ENROLMENT_CODE_HOURS,
        }
        return TemplateResponse(request, "admin/onestop/user/enrolment_codes.html", context)


class _WordsFilter(admin.SimpleListFilter):
    """A filter on a code column of the trail, each code named in words (the list's words)."""

    field = ""

    def words(self, code: str) -> str:
        raise NotImplementedError

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        codes = model_admin.get_queryset(request).order_by().values_list(self.field, flat=True).distinct()
        return sorted(((code, self.words(code)) for code in codes), key=lambda pair: pair[1])

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        return queryset.filter(**{self.field: self.value()}) if self.value() else queryset


class ActionFilter(_WordsFilter):
    title = _("action")
    parameter_name = field = "action"

    def words(self, code: str) -> str:
        return action_label(code)


class SubjectTypeFilter(_WordsFilter):
    title = _("subject type")
    parameter_name = field = "subject_type"

    def words(self, code: str) -> str:
        return subject_label(code)


@admin.register(AuditEvent)
class AuditEventAdmin(CsvExportMixin, AppendOnlyAdmin):
    list_display = [
        "seq",
        "occurred_at",
        "actor_label",
        "office",
        "action_words",
        "subject_words",
        "subject_id",
        "record_number",
    ]
    # The detail page: every field (none is editable, so the form itself has none), and the link
    # to the row before in the chain with whether the hashes hold.
    readonly_fields = [
        "seq",
        "occurred_at",
        "actor_label",
        "actor",
        "office",
        "action_words",
        "action",
        "subject_type",
        "subject_id",
        "record_number",
        "serial",
        "old_values",
        "new_values",
        "request_id",
        "chain_link",
        "prev_hash",
        "row_hash",
    ]
    list_filter = [ActionFilter, SubjectTypeFilter, "occurred_at"]
    search_fields = ["record_number", "serial", "actor_label", "subject_id", "request_id"]
    date_hierarchy = "occurred_at"
    list_select_related = ["office"]
    ordering = ["-id"]  # newest first, linked or not
    show_full_result_count = False
    change_list_template = "admin/onestop/auditevent/change_list.html"

    @admin.display(description=_("what happened"), ordering="action")
    def action_words(self, obj: AuditEvent) -> str:
        return action_label(obj.action)

    @admin.display(description=_("subject type"), ordering="subject_type")
    def subject_words(self, obj: AuditEvent) -> str:
        return subject_label(obj.subject_type)

    # The row's link, from its AuditLink (the manager's annotation): empty until the chainer,
    # which runs within seconds of the commit, has linked it.
    @admin.display(description=_("sequence number"), ordering="link__seq")
    def seq(self, obj: AuditEvent) -> int | str:
        return obj.seq if obj.seq is not None else ""

    @admin.display(description=_("previous row's hash"))
    def prev_hash(self, obj: AuditEvent) -> str:
        return obj.prev_hash or ""

    @admin.display(description=_("this row's hash"))
    def row_hash(self, obj: AuditEvent) -> str:
        return obj.row_hash or ""

    @admin.display(description=_("link in the chain"))
    def chain_link(self, obj: AuditEvent) -> SafeString | str:
        if obj.seq is None:
            return str(_("not linked into the chain yet"))
        holds = compute_hash(obj) == obj.row_hash
        verdict = (
            _("this row's hash matches its contents") if holds else _("this row's hash does NOT match its contents")
        )
        if obj.seq <= 1:
            return format_html("{}; {}", _("the first row of the chain"), verdict)
        before = AuditEvent.objects.filter(link__seq=obj.seq - 1).only("pk").first()
        if before is None:
            return format_html("{}; {}", _("the row before is missing"), verdict)
        linked = (
            _("its hash is this row's previous hash")
            if before.row_hash == obj.prev_hash
            else _("its hash is NOT this row's previous hash")
        )
        url = reverse("admin:onestop_auditevent_change", args=[before.pk])
        return format_html('<a href="{}">{} #{}</a>: {}; {}', url, _("row"), obj.seq - 1, linked, verdict)

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
