from django.urls import path

from . import views

urlpatterns = [
    path("healthz", views.live, name="healthz"),
    path("healthz/ready", views.ready, name="healthz-ready"),
    path("metrics", views.metrics, name="metrics"),
]
