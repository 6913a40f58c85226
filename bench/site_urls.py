"""The application's URLs plus B3's trivial view: logged in, the same guard, no work of its own."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_safe

from onestop.permissions import READERS, role_required
from onestop.urls import urlpatterns as app_urlpatterns


@role_required(*READERS)
@require_safe
def trivial(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/trivial/", trivial, name="bench-trivial"), *app_urlpatterns]
