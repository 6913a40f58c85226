"""`{% safeguards_section record %}` on the holder page and `{% safeguards_nav %}` in the nav."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from driver_records.models import DriverRecord
from onestop.roles import is_auditor, is_supervisor

from ..models import SuspensionStatus
from ..selectors import record_suspension_requests

register = template.Library()


@register.inclusion_tag("safeguards/record_section.html", takes_context=True)
def safeguards_section(context: template.Context, record: DriverRecord) -> dict[str, Any]:
    user = context["request"].user
    oversight = is_supervisor(user) or is_auditor(user)
    requests = record_suspension_requests(record)
    return {
        "record": record,
        "suspension": next((s for s in requests if s.status == SuspensionStatus.CONFIRMED), None),
        "proposal": next((s for s in requests if s.status == SuspensionStatus.PROPOSED), None),
        "oversight": oversight,
        "is_supervisor": is_supervisor(user),
        "disclosures": list(record.disclosure_requests.order_by("-registered_at", "-pk")[:10]) if oversight else [],
    }


@register.simple_tag(takes_context=True)
def safeguards_nav(context: template.Context) -> SafeString | str:
    request = context.get("request")
    if request is None or not (is_supervisor(request.user) or is_auditor(request.user)):
        return ""
    return format_html('<a href="{}">{}</a>', reverse("safeguards:home"), _("Defensive measures and disclosure"))
