"""`{% consent_section record %}`: the consent part of the holder page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

from driver_records.models import DriverRecord
from onestop.roles import is_counter_staff, is_supervisor

from ..errors import explain
from ..forms import ItemsForm, MynaportalLinkForm
from ..models import Consent, ConsentStatus
from ..selectors import consent_start_refusal, consent_status, items_label, list_separator, pending_warning_of

register = template.Library()


@register.inclusion_tag("consents/record_section.html", takes_context=True)
def consent_section(context: template.Context, record: DriverRecord, eligibility: Any = None) -> dict[str, Any]:
    """`eligibility`: the holder page's one message (consents.holder_eligibility), which
    this section does not repeat; without it the section asks consent_start_refusal itself."""
    user = context["request"].user
    counter = is_counter_staff(user)
    status = consent_status(record=record)
    if eligibility is not None:
        may_start = eligibility.eligible
    else:
        may_start = counter and consent_start_refusal(record=record, office=user.office) is None
    return {
        "record": record,
        "status": status,
        "current": status.current,
        "past": status.past,
        "warning": pending_warning_of(status),
        "may_start": may_start,
        "is_counter_staff": counter,
        "is_supervisor": is_supervisor(user),
        "revocable": (ConsentStatus.ACTIVE, ConsentStatus.PENDING),
        "items_form": ItemsForm(),
        "link_form": MynaportalLinkForm(),
        "csrf_token": context.get("csrf_token"),
        "messages": context.get("messages"),  # those for the linkage are shown in it (section_messages)
    }


@register.filter
def consent_items(items: list[str]) -> str:
    return items_label(items)


@register.filter
def consent_references(consents: list[Consent]) -> str:
    return list_separator().join(c.reference for c in consents)


@register.filter
def refusal_text(code: str) -> str:
    return explain(code)


@register.filter
def waited(since: datetime | None) -> str:
    """How long since then, in the largest unit: 「2時間」「3日」 (2 hours, 3 days)."""
    if since is None:
        return ""
    return timesince(since, timezone.now(), depth=1)
