"""The real system against the reference model (tests/model/holders.py), step by step.

Hypothesis plays several holders at once: registrations at the Tokyo or Osaka counter (signed with
real JPKI-TEST cards, verified, sent to J-LIS by the outbox relay over HTTP), J-LIS reflecting and
rejecting them with chosen consent dates, revocations at the counter, through Mynaportal and JPKI
Mobile, registrations through Mynaportal, moves (to Osaka too) and renames, certificates expiring
and renewed, holding-status changes both ways, suspensions, the days passing with the daily expiry.
J-LIS's events are delivered late, in any order and twice, read by the real poller (protocol
parsing included) and applied by the batch path or the per-event path, several holders' events in
one batch. After every step each record, consent, event and feed state must be the model's.

CI runs a fixed seed and a bounded number of sequences; ONESTOP_MODEL_EXAMPLES=N runs N sequences
(ONESTOP_MODEL_STEPS the steps of each) for the long run recorded in docs/reliability.md.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from hypothesis.stateful import run_state_machine_as_test

from .machine import STATS, HoldersAgainstTheModel

pytestmark = [pytest.mark.django_db]


def examples() -> int:
    return int(os.environ.get("ONESTOP_MODEL_EXAMPLES", "25"))


def phases() -> list[Phase]:
    """A failure prints as found: its steps with each drawn holder, consent and event id in one
    line. ONESTOP_MODEL_SHRINK=1 shrinks it first (each try replays the sequence against the real
    system: hypothesis stops after five minutes and prints the smallest found so far; a failure
    that does not repeat on replay, e.g. a timing fault, prints no sequence at all then)."""
    chosen = [Phase.explicit, Phase.reuse, Phase.generate]
    return [*chosen, Phase.shrink] if os.environ.get("ONESTOP_MODEL_SHRINK") == "1" else chosen


def run_settings(max_examples: int) -> hypothesis_settings:
    """How a model-based run goes: derandomized (CI repeats it), no deadline (each step drives the
    real system), `phases()`, and no health check (the steps are slow by nature)."""
    return hypothesis_settings(
        max_examples=max_examples,
        stateful_step_count=int(os.environ.get("ONESTOP_MODEL_STEPS", "30")),
        deadline=None,
        derandomize=True,
        phases=phases(),
        suppress_health_check=list(HealthCheck),
    )


def test_the_system_follows_the_model_through_any_sequence(model_world: type[HoldersAgainstTheModel]) -> None:
    model_world.excuse_known = True
    try:
        run_state_machine_as_test(
            HoldersAgainstTheModel,
            settings=run_settings(examples()),
        )
    finally:
        model_world.excuse_known = False
        print("model-based run:", dict(sorted(STATS.items())))
