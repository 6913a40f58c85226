"""Error answers: a page in the site's layout, or `{code, message}` JSON under /api/, for the
errors Django raises itself (handler400/403/404/500) and for refused request bodies."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.template import loader
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

API_PREFIX = "/api/"

ANSWERS: dict[int, tuple[str, Promise, Promise]] = {
    400: ("bad_request", _("Bad request"),
          _("The request could not be read. Go back, check what was sent and try again.")),
    403: ("forbidden", _("Not allowed"), _("Your role does not allow this page or action.")),
    404: ("not_found", _("Not found"), _("There is no such page, or what it showed no longer exists.")),
    409: ("in_progress", _("Still in progress"),
          _("The same request is still being processed. Wait a moment and reload the page.")),
    413: ("too_large", _("Too large"), _("The request body is too large.")),
    422: ("refused", _("Not accepted"), _("The request was refused.")),
    500: ("server_error", _("Server error"),
          _("Something went wrong on our side. It has been logged; try again later.")),
}  # fmt: skip


def wants_json(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)  # what Django routes on, not SCRIPT_NAME + it


def error_answer(
    request: HttpRequest,
    status: int,
    *,
    code: str | None = None,
    message: str | Promise | None = None,
    as_json: bool | None = None,
) -> HttpResponse:
    """The error as JSON `{code, message}` (under /api/, or when asked) or as a page."""
    default_code, title, default_message = ANSWERS.get(status, ANSWERS[400])
    code, message = code or default_code, message or default_message
    if as_json or (as_json is None and wants_json(request)):
        return JsonResponse({"code": code, "message": str(message)}, status=status)
    context = {"status": status, "title": title, "message": message}
    # Middleware may refuse a request before authentication has run: no user, no user context.
    page = loader.render_to_string("error.html", context, request=request if hasattr(request, "user") else None)
    return HttpResponse(page, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    # A body over DATA_UPLOAD_MAX_MEMORY_SIZE found while reading it (a multipart form's field).
    return error_answer(request, 413 if isinstance(exception, RequestDataTooBig) else 400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return error_answer(request, 403)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return error_answer(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    code, _title, message = ANSWERS[500]
    if wants_json(request):
        return JsonResponse({"code": code, "message": str(message)}, status=500)
    # No context: rendering must not fail for the same reason the request did.
    return HttpResponseServerError(loader.get_template("500.html").render())
