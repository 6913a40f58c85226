"""Which peers are the TLS proxy in front (ONESTOP_TRUSTED_PROXIES: addresses or networks;
default none). Headers a proxy adds (X-Forwarded-For, X-Request-ID) are believed only from them:
from any other peer they are what the client wrote."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def is_trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(settings.TRUSTED_PROXIES)))


def peer_is_trusted_proxy(request: HttpRequest) -> bool:
    """Whether the request came through a trusted proxy (its peer is one)."""
    return is_trusted_proxy(request.META.get("REMOTE_ADDR") or "")
