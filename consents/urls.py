from django.urls import path

from . import views

app_name = "consents"

urlpatterns = [
    path("records/<int:record_id>/statements/", views.statement_new, name="statement-new"),
    path("records/<int:record_id>/mynaportal-link/", views.mynaportal_link, name="mynaportal-link"),
    path("statements/<int:statement_id>/", views.statement_detail, name="statement"),
    path("statements/<int:statement_id>/demo-sign/", views.statement_demo_sign, name="statement-demo-sign"),
    path("<int:consent_id>/receipt/", views.consent_receipt, name="receipt"),
    path("<int:consent_id>/revoke/", views.consent_revoke_view, name="revoke"),
    path("<int:consent_id>/withdraw/", views.consent_withdraw_view, name="withdraw"),
    path("<int:consent_id>/revocation-slip/", views.revocation_slip, name="revocation-slip"),
    path("worklist/", views.worklist, name="worklist"),
    path("outbox/<int:message_id>/resend/", views.outbox_resend_view, name="outbox-resend"),
]
