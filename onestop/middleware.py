import re
import uuid
from collections.abc import Callable
from urllib.parse import unquote

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

from .errors import error_answer
from .my_number import contains_my_number
from .proxies import peer_is_trusted_proxy
from .request_context import request_id_var

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _believed_request_id(request: HttpRequest) -> str | None:
    """The X-Request-ID the TLS proxy gave the request, when it is one we may keep. Only the proxy
    (ONESTOP_TRUSTED_PROXIES) names requests: the id lands in every log line and in the audit
    trail, which keeps it for good, so one a client wrote would keep whatever the client chose
    (a name, a birthdate, another request's id). And never a My Number (R14), whoever sent it."""
    incoming = request.headers.get("X-Request-ID", "")
    if not _SAFE_ID.match(incoming) or not peer_is_trusted_proxy(request) or contains_my_number(incoming):
        return None
    return incoming


class RequestIdMiddleware:
    """Gives every request an id (the trusted proxy's X-Request-ID when sane) for logs and audit rows."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = _believed_request_id(request) or uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


class RequestLimitsMiddleware:
    """Refuses, before anything reads them:
    - a body larger than allowed (413): form and JSON bodies up to DATA_UPLOAD_MAX_MEMORY_SIZE,
      multipart (uploads) up to UPLOAD_MAX_BYTES; the API's own, smaller limit is in its views;
    - a NUL character in the query string (400): PostgreSQL cannot store or compare one, and no
      form field the project has takes one (Django's form fields refuse it in bodies)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            size = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            size = 0  # Django reads no body then
        multipart = request.content_type == "multipart/form-data"
        limit = settings.UPLOAD_MAX_BYTES if multipart else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and size > limit:
            return error_answer(request, 413)
        if "\x00" in unquote(request.META.get("QUERY_STRING", "")):
            return error_answer(request, 400)
        return self.get_response(request)


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every answer the application makes (issue 17, finding 7).

    Counter PCs are shared: a page or API answer with a holder's data must not stay in the
    browser's cache or a proxy's for the next person at the desk. Every page, API answer,
    admin page, CSV export, error and redirect gets it, whoever asked (a page without personal
    data costs nothing to fetch again). Static files are served before this (whitenoise) and
    keep their long cache lifetime."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        patch_cache_control(response, no_store=True, private=True)
        return response
