from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JlisGatewayConfig(AppConfig):
    name = "jlis_gateway"
    verbose_name = _("J-LIS gateway")
