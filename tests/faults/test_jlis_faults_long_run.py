"""A long seeded run against the simulator with every fault it can inject, mixed: J-LIS keeps
writing while we poll (random page sizes, polls cut short) and apply between polls. The cursor
skips nothing, malformed events are quarantined with their reasons, and the rest is applied
once each, as the in-order reference says."""

from __future__ import annotations

import random

import pytest

from applier.batch import events_apply_pending
from jlis_gateway.models import EventStatus, JlisEvent, QuarantinedEvent
from jlis_gateway.services.poll import events_poll

from .world import Start, assert_matches, outcome, records_for_generated, reference_fold, start_state, stored_events

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

FAULTS = [  # (kind, probability): every fault the simulator has, on the event feed
    ("delay", 0.03),  # longer than the client's timeout: a timed-out read
    ("error_5xx", 0.1),
    ("truncated", 0.05),
    ("malformed_body", 0.05),
    ("malformed_event", 0.05),
    ("duplicate", 0.25),
    ("out_of_order", 0.3),
]


def _fired(simulator) -> dict[str, int]:
    return {f["kind"]: f["fired"] for f in simulator.state()["faults"] if f["kind"] in dict(FAULTS)}


def caught_up() -> None:
    for _ in range(500):
        result = events_poll()
        if result.status == "done" and not result.has_more:
            return
    pytest.fail("the poll never caught up")


@pytest.mark.parametrize("seed", [2024])
def test_a_long_run_under_every_fault_skips_nothing_and_applies_the_rest_once(jlis_simulator, settings, seed):
    rng = random.Random(seed)
    jlis_simulator.reset(seed=seed)
    settings.JLIS_TIMEOUT_SECONDS, settings.JLIS_RETRIES = 0.5, 1
    for kind, probability in FAULTS:
        jlis_simulator.fault(kind, probability=probability, delay=0.8 if kind == "delay" else None)
    start = Start([], {})
    polls = failed = 0
    rounds = 0
    # J-LIS writes, we poll a little and apply, J-LIS writes again... for 8 rounds, and on until
    # every kind of fault has happened and made a poll fail (how many requests a run makes, and how
    # many of its faults the client's retries absorb, depends on its timeouts).
    while rounds < 8 or (rounds < 24 and (failed == 0 or not all(_fired(jlis_simulator).values()))):
        rounds += 1
        answer = jlis_simulator.generate(
            count=rng.randint(300, 700), holders=rng.randint(20, 80), seed=rng.randrange(999)
        )
        fresh = start_state(records_for_generated(answer["holders"]))
        start.records += fresh.records
        start.consents |= fresh.consents
        settings.JLIS_PAGE_SIZE = rng.randint(10, 200)
        for _ in range(rng.randint(1, 6)):
            result = events_poll(max_pages=rng.randint(1, 8))
            polls, failed = polls + 1, failed + (result.status == "failed")
        events_apply_pending()
    settings.JLIS_PAGE_SIZE = 100
    caught_up()
    events_apply_pending()

    served = jlis_simulator.events()
    everything, corrupt = set(served["ids"]), set(served["corrupt"])
    stored = list(JlisEvent.objects.values_list("event_id", flat=True))
    quarantined = dict(QuarantinedEvent.objects.values_list("event_id", "reason"))
    fired = _fired(jlis_simulator)
    assert all(fired.values()), fired  # every kind of fault happened
    assert failed > 0  # and some polls failed for it
    # The cursor never skipped: every event served is stored (once) or quarantined.
    assert len(stored) == len(set(stored))
    assert set(stored) | set(quarantined) == everything
    assert set(quarantined) == corrupt and not set(stored) & corrupt
    assert all(quarantined.values())  # each with its reason
    # The rest is applied once, as applying the stored events in J-LIS's order gives. A holder's
    # events after a quarantined one name a serial only that event carried: they wait, unapplied.
    reference = reference_fold(stored_events(order="holder_seq"), start=start)
    result = outcome()
    assert_matches(result, reference)
    waiting = {e for e, why in reference.not_applied.items() if why == "waiting"}
    assert waiting == set(reference.not_applied)  # nothing else is left out
    assert set(JlisEvent.objects.filter(status=EventStatus.PENDING).values_list("event_id", flat=True)) == waiting
    assert len(everything) >= 3000 and len(corrupt) >= 1
