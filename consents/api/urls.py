from django.urls import path

from . import views

app_name = "api"

urlpatterns = [
    path("statements/", views.StatementsView.as_view(), name="statements"),
    path("statements/<int:statement_id>/", views.StatementDetailView.as_view(), name="statement"),
    path("statements/<int:statement_id>/signature/", views.StatementSignatureView.as_view(), name="statement-sign"),
    path("records/<int:record_id>/consent-status/", views.RecordConsentStatusView.as_view(), name="consent-status"),
]
