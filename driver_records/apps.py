from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _feed_stop_guard(using: str = "default", **_kwargs: Any) -> None:
    """SQLite loses a table's triggers when Django rebuilds the table for a schema change: put
    R12's back after every migrate (PostgreSQL keeps its own; migration 0009 installs it)."""
    from .feed_stop_guard import feed_stop_guard_install
    from .service_stop_guard import service_stop_guard_install

    connection = connections[using]
    if connection.vendor == "sqlite" and "driver_records_driverrecord" in connection.introspection.table_names():
        feed_stop_guard_install(connection)
        service_stop_guard_install(connection)  # R15's, likewise


class DriverRecordsConfig(AppConfig):
    name = "driver_records"
    verbose_name = _("Driver records")

    def ready(self) -> None:
        post_migrate.connect(_feed_stop_guard, sender=self, dispatch_uid="driver-records-feed-stop-guard")
