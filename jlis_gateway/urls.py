from django.urls import path

from . import views

app_name = "gateway"

urlpatterns = [
    path("", views.monitor, name="monitor"),
    path("poll/", views.poll_now, name="poll_now"),
    path("outbox/<int:message_id>/resend/", views.outbox_resend_view, name="outbox-resend"),
]
