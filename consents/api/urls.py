from django.urls import path, re_path

from . import views

app_name = "api"

urlpatterns = [
    path("statements/", views.StatementsView.as_view(), name="statements"),
    path("statements/<int:statement_id>/", views.StatementDetailView.as_view(), name="statement"),
    path("statements/<int:statement_id>/signature/", views.StatementSignatureView.as_view(), name="statement-sign"),
    path("records/<int:record_id>/consent-status/", views.RecordConsentStatusView.as_view(), name="consent-status"),
    # Anything else under the API (a negative or malformed id, an unknown path) is the API's own 404.
    re_path(r"", views.ApiNotFoundView.as_view(), name="not-found"),
]
