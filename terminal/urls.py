from django.conf.urls.i18n import i18n_patterns
from django.urls import path

from . import views

urlpatterns = [
    path("terminal.css", views.stylesheet, name="stylesheet"),
    *i18n_patterns(
        path("", views.statement_list, name="list"),
        path("statements/<int:statement_id>/", views.statement_page, name="statement"),
        path("statements/<int:statement_id>/sign/", views.statement_sign, name="sign"),
        path("statements/<int:statement_id>/send/", views.statement_send, name="send"),
        prefix_default_language=False,
    ),
]
