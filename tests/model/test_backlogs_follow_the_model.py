"""The real system against the model with the grace (tests/model/grace.py), where
test_system_follows_the_model.py never looks: backlogs past the grace period, a holder's events
split across batches of 1 to 3 and across two apply runs taking turns (machine_backlog.py).
CI runs a fixed seed and a bounded number of sequences; ONESTOP_MODEL_EXAMPLES=N runs N."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis.stateful import run_state_machine_as_test

from .machine import STATS, HoldersAgainstTheModel
from .machine_backlog import GRACE, BacklogsAgainstTheModel
from .test_system_follows_the_model import run_settings

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def backlog_world(model_world: type[HoldersAgainstTheModel], settings: Any) -> Iterator[type[BacklogsAgainstTheModel]]:
    settings.JLIS_UNKNOWN_SERIAL_GRACE_SECONDS = int(GRACE.total_seconds())
    yield BacklogsAgainstTheModel


def test_backlogs_and_split_batches_follow_the_model(backlog_world: type[BacklogsAgainstTheModel]) -> None:
    backlog_world.excuse_known = True
    STATS.clear()
    try:
        run_state_machine_as_test(
            backlog_world,
            settings=run_settings(int(os.environ.get("ONESTOP_MODEL_EXAMPLES", "30"))),
        )
    finally:
        backlog_world.excuse_known = False
        print("backlog model-based run:", dict(sorted(STATS.items())))
