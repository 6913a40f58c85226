"""Staff as the counter names them: the full name a supervisor or the admin set, else the username."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def staff_name(user: Any) -> str:
    """The staff member's full name, or the username when no name is set ("" for no one)."""
    if user is None:
        return ""
    return str(user.get_full_name() or user.get_username())
