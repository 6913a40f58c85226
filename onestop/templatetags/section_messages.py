"""Messages shown where the action was taken.

An action on a long page (the holder page) sends the browser back to the section acted on
(`#<section>` in the address); its message is tagged `at-<section>` (`message_at`) and shown in
that section, where the clerk is, instead of at the top of the page, out of sight."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()
PREFIX = "at-"


def message_at(section: str) -> str:
    """The `extra_tags` that show a message in `section` (its anchor on the page)."""
    return f"{PREFIX}{section}"


def _section(message: Any) -> str:
    for tag in str(getattr(message, "extra_tags", "") or "").split():
        if tag.startswith(PREFIX):
            return tag.removeprefix(PREFIX)
    return ""


@register.simple_tag(takes_context=True)
def page_messages(context: Any) -> list[Any]:
    """The messages for the top of the page: those tagged for no section."""
    return [message for message in context.get("messages") or () if not _section(message)]


@register.simple_tag(takes_context=True)
def messages_at(context: Any, section: str) -> list[Any]:
    """The messages tagged for `section`."""
    return [message for message in context.get("messages") or () if _section(message) == section]
