from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DriverRecordsConfig(AppConfig):
    name = "driver_records"
    verbose_name = _("Driver records")
