"""A Redis restart under a working consumer must not kill the worker (onestop/broker_patch.py)."""

import kombu
import pytest
from django.conf import settings
from kombu import Connection
from kombu.transport import redis as kombu_redis

import onestop.celery  # noqa: F401 (installs the guard, as every worker does)
from onestop import broker_patch

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


def test_the_guard_is_written_for_the_kombu_installed():
    """The guard patches a private method of one kombu version: an upgrade fails here, so the
    guard is checked against the new version (is celery/kombu#582 fixed there?) before moving on."""
    assert kombu.__version__ == broker_patch.WRITTEN_FOR
    assert kombu_redis.Channel._connparams is broker_patch._connparams  # installed by onestop.celery


def test_on_another_kombu_the_guard_stays_out(monkeypatch):
    monkeypatch.setattr(kombu, "__version__", "5.8.0")
    monkeypatch.setattr(kombu_redis.Channel, "_connparams", broker_patch._original_connparams)
    assert broker_patch.install() is False
    assert kombu_redis.Channel._connparams is broker_patch._original_connparams
