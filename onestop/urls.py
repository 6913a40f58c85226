from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from consents.api.views import SchemaView

from . import second_factor
from .forms import StaffAuthenticationForm

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="counter:home", permanent=False)),
    path("", include("operations.urls")),  # healthz, healthz/ready, metrics
    path("accounts/login/", auth_views.LoginView.as_view(authentication_form=StaffAuthenticationForm), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/second-factor/", second_factor.second_factor, name="second_factor"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("counter/", include("consents.counter_urls")),
    path("counter/consents/", include("consents.urls")),
    path("counter/safeguards/", include("safeguards.urls")),
    path("api/v1/", include("consents.api.urls")),
    path("gateway/", include("jlis_gateway.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
]

handler400 = "onestop.errors.bad_request"
handler403 = "onestop.errors.permission_denied"
handler404 = "onestop.errors.page_not_found"
handler500 = "onestop.errors.server_error"
