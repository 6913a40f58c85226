from django.urls import path

from . import counter_views as views

app_name = "counter"

urlpatterns = [
    path("", views.home, name="home"),
    path("records/<int:record_id>/", views.record_detail, name="record"),
    path("records/<int:record_id>/holding-status/", views.holding_status_change, name="holding-status"),
]
