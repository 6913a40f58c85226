from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import translate_url


def languages(request: HttpRequest) -> dict[str, object]:
    """The same page in each language of the screen (Japanese first)."""
    return {"language_links": [(code, name, translate_url(request.path, code)) for code, name in settings.LANGUAGES]}
