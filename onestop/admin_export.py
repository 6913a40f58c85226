"""CSV export of an admin list as filtered on screen; every export is itself audited."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import label_for_field, lookup_field
from django.contrib.admin.views.main import ERROR_FLAG, IGNORED_PARAMS, SEARCH_VAR
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import models, transaction
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect, StreamingHttpResponse
from django.urls import URLPattern, path
from django.utils import timezone

from .admin_site import search_refused
from .audit import AuditEntry, audit_log
from .audit_actions import AuditAction

# What the trail keeps in place of a value someone typed (a name, a birth date): that a filter
# or a search was used, never what it said.
TYPED = "***"


# A spreadsheet reads a cell that begins with one of these as a formula (=, +, -, @; a tab or a
# carriage return before one), and Excel on a Japanese system also takes their full-width forms
# as typed. Such a cell gets a leading apostrophe, which makes the spreadsheet read it as text
# (OWASP, "CSV Injection"): a holder's name or a free-text note can run nothing on the auditor's PC.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def csv_cell(value: str) -> str:
    """The value as a cell no spreadsheet runs as a formula (issue 17, finding 9)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


class _Echo:
    def write(self, value: str) -> str:
        return value


class CsvExportMixin(admin.ModelAdmin):
    change_list_template = "admin/onestop_export_change_list.html"

    def get_urls(self) -> list[URLPattern]:
        opts = self.model._meta
        name = f"{opts.app_label}_{opts.model_name}_export"
        return [path("export.csv", self.admin_site.admin_view(self.export_csv), name=name), *super().get_urls()]

    def export_csv(self, request: HttpRequest) -> HttpResponseBase:
        if not self.has_view_permission(request):
            raise PermissionDenied
        if refused := search_refused(request):
            return refused
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:  # as the list itself answers filters it cannot apply
            return HttpResponseRedirect(request.path.removesuffix("export.csv") + f"?{ERROR_FLAG}=1")
        queryset = changelist.get_queryset(request)
        columns = [c for c in self.get_list_display(request) if c != "action_checkbox"]
        with transaction.atomic(durable=True):
            audit_log(
                AuditEntry(
                    action=AuditAction.ADMIN_EXPORT,
                    subject_type=self.model._meta.label_lower,
                    subject_id="*",
                    actor=request.user,  # type: ignore[arg-type]
                    new_values={
                        "filters": self._filters_shape(request),
                        "search": TYPED if request.GET.get(SEARCH_VAR, "").strip() else "",
                        "rows": queryset.count(),
                        "columns": columns,
                    },
                )
            )

        def rows() -> Iterator[str]:
            writer = csv.writer(_Echo())
            yield "\ufeff"  # so spreadsheet software reads the Japanese as UTF-8
            yield writer.writerow([csv_cell(str(label_for_field(c, self.model, self))) for c in columns])
            for obj in queryset.iterator(chunk_size=2000):
                yield writer.writerow([self._cell(obj, c) for c in columns])

        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{self.model._meta.model_name}-{stamp}.csv"'
        return response

    def _filters_shape(self, request: HttpRequest) -> dict[str, str]:
        """Each filter the export used, by name. The value is kept only when it is one of a choice
        field's own values (a status, a prefecture) picked from the list's side bar; anything else
        could be typed into the address, so it is masked."""
        shape = {}
        for name in sorted(set(request.GET) - set(IGNORED_PARAMS)):
            values = request.GET.getlist(name)
            choices = self._choice_values(name)
            shape[name] = values[0] if len(values) == 1 and values[0] in choices else TYPED
        return shape

    def _choice_values(self, lookup: str) -> set[str]:
        field_name, _sep, operator = lookup.partition("__")
        if operator not in ("", "exact"):
            return set()
        try:
            field = self.model._meta.get_field(field_name)
        except FieldDoesNotExist:
            return set()
        if not isinstance(field, models.Field) or not field.choices:
            return set()
        return {str(value) for value, _label in field.flatchoices}

    def _cell(self, obj: Any, column: str | Callable[[Any], str | bool]) -> str:
        _field, _attr, value = lookup_field(column, obj, self)
        if isinstance(value, datetime):  # Japan's time, to the second, as the list shows it
            return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S")
        return "" if value is None else csv_cell(str(value))
