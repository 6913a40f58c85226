from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _final_status_guard(using: str = "default", **_kwargs: Any) -> None:
    """SQLite loses a table's triggers when Django rebuilds the table for a schema change: put
    the final-status guard back after every migrate (PostgreSQL keeps it; migration 0006)."""
    from .final_status_guard import final_status_guard_install

    connection = connections[using]
    if connection.vendor == "sqlite" and "consents_consent" in connection.introspection.table_names():
        final_status_guard_install(connection)


class ConsentsConfig(AppConfig):
    name = "consents"
    verbose_name = _("Consents")

    def ready(self) -> None:
        post_migrate.connect(_final_status_guard, sender=self, dispatch_uid="consents-final-status-guard")
        # The gateway below reaches consents only through this (jlis_gateway/consent_side.py).
        from jlis_gateway.consent_side import consent_side_register

        from .gateway_side import GatewaySide

        consent_side_register(GatewaySide())
