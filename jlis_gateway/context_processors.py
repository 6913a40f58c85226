"""The counter pages' banner while J-LIS cannot be read or written."""

from __future__ import annotations

from django.http import HttpRequest

from .selectors import GatewayTrouble, gateway_trouble


def gateway_context(request: HttpRequest) -> dict[str, object]:
    def trouble() -> GatewayTrouble | None:
        # Called by the template only where it shows the banner (signed-in pages of base.html):
        # the admin and the login page never run the query.
        return gateway_trouble()

    return {"jlis_trouble": trouble}
