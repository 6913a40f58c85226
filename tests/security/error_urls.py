"""A URL configuration with a view that fails while holding personal data in its variables."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def fail(request: HttpRequest) -> HttpResponse:
    holder_name = request.POST.get("name", "")  # noqa: F841 (a variable a report could show)
    holder = {key: request.POST.get(key) for key in ("name", "address", "birth_date")}  # noqa: F841
    raise RuntimeError("the view failed")


urlpatterns = [
    path("fail/", fail),
    path("api/v1/fail/", fail),
    path("", include("onestop.urls")),
]
handler500 = "onestop.errors.server_error"
