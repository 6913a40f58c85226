"""The admin site: every model admin registered on it, ours or a library's, gets the guards of
GuardedModelAdmin (R14 on free-text fields and search, no POST to a list by read-only users)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import SEARCH_VAR
from django.core.exceptions import PermissionDenied
from django.db.models import Field, Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from driver_records.access import model_rows_readable

from .forms import StaffAdminAuthenticationForm
from .validators import NoMyNumber, is_free_text_model_field, search_refusal


def search_refused(request: HttpRequest) -> HttpResponse | None:
    """The list without its search, with the reason, when the search box's input is refused."""
    refusal = search_refusal(request.GET.get(SEARCH_VAR, ""))
    if refusal is None:
        return None
    messages.error(request, refusal)
    params = request.GET.copy()
    params.pop(SEARCH_VAR, None)
    # The list itself, never the export: the refused search must not reach the export's audit row.
    return HttpResponseRedirect(request.path.removesuffix("export.csv") + (f"?{params.urlencode()}" if params else ""))


class GuardedModelAdmin(admin.ModelAdmin):
    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # The object-scope rule: the list, a row, its history and the CSV export (all read
        # through here) show only the holders whose data the user may read.
        return model_rows_readable(request.user, super().get_queryset(request))

    def formfield_for_dbfield(self, db_field: Field, request: HttpRequest, **kwargs: Any) -> forms.Field | None:
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if isinstance(formfield, forms.CharField) and is_free_text_model_field(db_field):
            formfield.validators.append(NoMyNumber(formfield.label or db_field.name))
        return formfield

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        read_only = not (self.has_change_permission(request) or self.has_delete_permission(request))
        if request.method == "POST" and read_only:
            raise PermissionDenied  # a read-only user has no action to run and nothing to edit
        return search_refused(request) or super().changelist_view(request, extra_context)


class OnestopAdminSite(admin.AdminSite):
    login_form = StaffAdminAuthenticationForm
    # The service's name, not Django's.
    site_header = _("Address-change one-stop service: administration and audit")
    site_title = _("Address-change one-stop service")
    index_title = _("Administration and audit")
    # No model menu beside every page: it took a third of the width, and the audit list's
    # columns went out of sight (at 800 px all but two). The home page and the breadcrumbs lead
    # to every model.
    enable_nav_sidebar = False

    def register(
        self, model_or_iterable: type[Model] | Iterable[type[Model]], admin_class: type | None = None, **options: Any
    ) -> None:
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, GuardedModelAdmin):
            bases = (GuardedModelAdmin, admin_class)
            admin_class = type(admin_class.__name__, bases, {"__module__": admin_class.__module__})
        super().register(model_or_iterable, admin_class, **options)
