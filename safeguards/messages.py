"""What other apps say about a suspended holder (no model imports: consents.errors loads it)."""

from django.utils.translation import gettext_lazy as _

SERVICE_SUSPENDED = "service_suspended"
SERVICE_SUSPENDED_MESSAGE = _(
    "The service is stopped for this holder as a defensive measure (article 7 of the terms). "
    "No consent can be registered for them."
)
