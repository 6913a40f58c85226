"""`{% consent_section record %}`: the consent part of the holder page."""

from __future__ import annotations

from typing import Any

from django import template

from driver_records.models import DriverRecord
from onestop.roles import is_counter_staff, is_supervisor

from ..errors import explain
from ..forms import ItemsForm, MynaportalLinkForm
from ..models import ConsentStatus
from ..selectors import consent_start_refusal, consent_status, items_label

register = template.Library()


@register.inclusion_tag("consents/record_section.html", takes_context=True)
def consent_section(context: template.Context, record: DriverRecord) -> dict[str, Any]:
    user = context["request"].user
    counter = is_counter_staff(user)
    status = consent_status(record=record)
    return {
        "record": record,
        "status": status,
        "current": status.current,
        "start_refusal": consent_start_refusal(record=record, office=user.office) if counter else None,
        "is_counter_staff": counter,
        "is_supervisor": is_supervisor(user),
        "revocable": (ConsentStatus.ACTIVE, ConsentStatus.PENDING),
        "items_form": ItemsForm(),
        "link_form": MynaportalLinkForm(),
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def consent_items(items: list[str]) -> str:
    return items_label(items)


@register.filter
def refusal_text(code: str) -> str:
    return explain(code)
