from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentsConfig(AppConfig):
    name = "consents"
    verbose_name = _("Consents")

    def ready(self) -> None:
        # The gateway below reaches consents only through this (jlis_gateway/consent_side.py).
        from jlis_gateway.consent_side import consent_side_register

        from .gateway_side import GatewaySide

        consent_side_register(GatewaySide())
