from django.urls import path

from . import views

app_name = "safeguards"

urlpatterns = [
    path("", views.home, name="home"),
    path("records/<int:record_id>/suspend/", views.suspension_propose, name="suspension-propose"),
    path("suspensions/<int:suspension_id>/", views.suspension_detail, name="suspension"),
    path("records/<int:record_id>/disclosures/new/", views.disclosure_new, name="disclosure-new"),
    path("disclosures/<int:disclosure_id>/", views.disclosure_detail, name="disclosure"),
    path("disclosures/<int:disclosure_id>/report/", views.disclosure_report_view, name="disclosure-report"),
]
