"""The monitor's errors in words, the stored text beside them for operators."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from jlis_gateway.errors import error_words

register = template.Library()


@register.filter
def jlis_error(text: str) -> SafeString | str:
    if not text:
        return ""
    return format_html(
        '{} <details class="detail"><summary>{}</summary><code>{}</code></details>',
        error_words(text),
        _("Technical details"),
        text,
    )
