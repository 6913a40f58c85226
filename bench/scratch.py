"""Scratch databases for benchmarks: created next to the configured one, migrated, then dropped.

Never the application's data nor the test database: the name is `<database>_bench_<suffix>`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connections


def add_alias(alias: str, *, like: str = "default") -> None:
    """Another connection alias to the same server, for a second scratch database."""
    if alias not in connections.settings:
        conf = copy.deepcopy(connections[like].settings_dict)
        connections.settings[alias] = conf
        settings.DATABASES[alias] = conf


def remove_alias(alias: str) -> None:
    """Forget an alias add_alias made (its connection closed), so that nothing later (a test
    over every database) takes it for one of the application's."""
    if alias in connections.settings:
        connections[alias].close()
        del connections[alias]
        del connections.settings[alias]
        settings.DATABASES.pop(alias, None)  # often the same dict as connections.settings


@contextmanager
def scratch_database(suffix: str, *, alias: str = "default") -> Iterator[str]:
    """Point `alias` at a fresh, migrated database for the duration; drop it afterwards."""
    connection = connections[alias]
    test_settings = connection.settings_dict.setdefault("TEST", {})
    configured_test_name = test_settings.get("NAME")
    # create_test_db returns the new database's name: the one to come back to is read before.
    original = connection.settings_dict["NAME"]
    test_settings["NAME"] = f"{original}_bench_{suffix}"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield connection.settings_dict["NAME"]
    finally:
        connection.creation.destroy_test_db(original, verbosity=0)
        test_settings["NAME"] = configured_test_name
