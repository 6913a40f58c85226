from django.urls import path

from . import views

app_name = "gateway"

urlpatterns = [
    path("", views.monitor, name="monitor"),
    path("poll/", views.poll_now, name="poll_now"),
]
