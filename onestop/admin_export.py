"""CSV export of an admin list as filtered on screen; every export is itself audited."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import label_for_field, lookup_field
from django.contrib.admin.views.main import ERROR_FLAG
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.urls import URLPattern, path
from django.utils import timezone

from .admin_site import search_refused
from .audit import AuditEntry, audit_log


class _Echo:
    def write(self, value: str) -> str:
        return value


class CsvExportMixin(admin.ModelAdmin):
    change_list_template = "admin/onestop_export_change_list.html"

    def get_urls(self) -> list[URLPattern]:
        opts = self.model._meta
        name = f"{opts.app_label}_{opts.model_name}_export"
        return [path("export.csv", self.admin_site.admin_view(self.export_csv), name=name), *super().get_urls()]

    def export_csv(self, request: HttpRequest) -> HttpResponse:
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
        filters = request.GET.urlencode()
        with transaction.atomic(durable=True):
            audit_log(
                AuditEntry(
                    action="admin.export",
                    subject_type=self.model._meta.label_lower,
                    subject_id="*",
                    actor=request.user,  # type: ignore[arg-type]
                    new_values={"filters": filters, "rows": queryset.count(), "columns": columns},
                )
            )

        def rows() -> Iterator[str]:
            writer = csv.writer(_Echo())
            yield "\ufeff"  # so spreadsheet software reads the Japanese as UTF-8
            yield writer.writerow([str(label_for_field(c, self.model, self)) for c in columns])
            for obj in queryset.iterator(chunk_size=2000):
                yield writer.writerow([self._cell(obj, c) for c in columns])

        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{self.model._meta.model_name}-{stamp}.csv"'
        return response

    def _cell(self, obj: Any, column: str) -> str:
        _field, _attr, value = lookup_field(column, obj, self)
        return "" if value is None else str(value)
