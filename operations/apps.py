from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperationsConfig(AppConfig):
    """Health, metrics and heartbeats: what an operator watches. It reads the other apps through
    their selectors; no app imports it."""

    name = "operations"
    verbose_name = _("Operations")
