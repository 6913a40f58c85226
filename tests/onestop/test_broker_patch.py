"""A Redis restart under a working consumer must not kill the worker (onestop/broker_patch.py)."""

import pytest
from django.conf import settings
from kombu import Connection

import onestop.celery  # noqa: F401 (installs the guard, as every worker does)

pytestmark = pytest.mark.redis


def test_closing_a_channel_whose_connection_is_gone_is_a_connection_error_not_a_crash():
    connection = Connection(settings.REDIS_URL)
    channel = connection.channel()
    try:
        # A message delivered and not yet acknowledged, as when the broker went away mid-task.
        channel.qos._delivered["tag-1"] = object()
        # The state kombu leaves when Redis vanished: pools dropped, the connection collected.
        channel._disconnect_pools()
        channel.connection.client = None
        connection.maybe_close_channel(channel)  # kombu 5.7 alone: AttributeError, the worker dies
        assert channel.closed
    finally:
        channel.qos._delivered.clear()
