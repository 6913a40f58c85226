"""The poller against the simulator over real HTTP: every event is kept once, stored or
quarantined with its reason, and the cursor never passes one that is not kept."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from jlis_gateway.client import Event, EventPage, InvalidEvent
from jlis_gateway.models import EventStatus, JlisEvent, PollState, QuarantinedEvent
from jlis_gateway.services.poll import REDIS_LOCK_KEY, PollLost, PollResult, _page_store, events_poll

pytestmark = pytest.mark.django_db


def poll_until_caught_up(max_polls: int = 200) -> list[PollResult]:
    results = []
    for _ in range(max_polls):
        results.append(events_poll())
        if results[-1].status == "done" and not results[-1].has_more:
            return results
    pytest.fail(f"not caught up after {max_polls} polls: {results[-3:]}")


def stored_ids() -> list[str]:
    return list(JlisEvent.objects.values_list("event_id", flat=True))


def test_a_poll_stores_every_event_pending_for_the_applier_and_records_success(jlis_simulator):
    jlis_simulator.generate(count=120, holders=12)
    [result] = poll_until_caught_up()
    assert (result.pages, result.stored, result.quarantined) == (3, 120, 0)  # pages of 50
    assert list(JlisEvent.objects.order_by("id").values_list("event_id", flat=True)) == jlis_simulator.events()["ids"]
    assert set(JlisEvent.objects.values_list("status", flat=True)) == {EventStatus.PENDING}
    state = PollState.objects.get()
    assert state.last_success_at is not None and state.last_error == "" and state.claim_token == ""
    event = JlisEvent.objects.order_by("id").first()
    assert event.kind == "latest_info" and event.payload["old_serial"] == event.serial
    # No record here knows J-LIS's generated holders: R2 keeps none of their items (test_door.py).
    assert set(event.payload) == {"old_serial", "new_serial", "not_after"}


def test_events_are_stored_once_however_often_a_page_is_re_read(jlis_simulator):
    jlis_simulator.generate(count=70, holders=7)
    poll_until_caught_up()
    for _ in range(3):
        PollState.objects.update(cursor="")  # read everything again from the start
        [result] = poll_until_caught_up()
        assert (result.stored, result.duplicates) == (0, 70)
    assert len(stored_ids()) == len(set(stored_ids())) == 70


def test_new_events_after_a_caught_up_poll_are_read_from_the_cursor(jlis_simulator):
    jlis_simulator.generate(count=10, holders=2)
    poll_until_caught_up()
    jlis_simulator.generate(count=5, holders=1)
    [result] = poll_until_caught_up()
    assert (result.stored, result.duplicates) == (5, 0)


@pytest.mark.faults
@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("error_5xx", "HTTP 503 unavailable"),
        ("delay", "timed out"),
        ("truncated", "not JSON"),
        ("malformed_body", "malformed"),
    ],
)
def test_a_failed_read_keeps_the_cursor_says_why_and_the_next_poll_reads_the_page(jlis_simulator, kind, reason):
    jlis_simulator.generate(count=30, holders=3)
    retries = settings.JLIS_RETRIES
    jlis_simulator.fault(kind, count=retries + 1, delay=settings.JLIS_TIMEOUT_SECONDS + 1 if kind == "delay" else None)
    if kind == "malformed_body":  # a wrong shape is not retried within the call
        jlis_simulator.faults_clear()
        jlis_simulator.fault(kind, count=1)
    failed = events_poll()
    state = PollState.objects.get()
    assert failed.status == "failed"
    assert reason in failed.error and reason in state.last_error  # what the monitor shows
    assert (state.cursor, state.last_success_at, JlisEvent.objects.count()) == ("", None, 0)
    poll_until_caught_up()
    state.refresh_from_db()
    assert (state.last_error, JlisEvent.objects.count()) == ("", 30)
    assert state.last_success_at is not None


@pytest.mark.faults
def test_a_malformed_event_is_quarantined_with_its_reason_and_the_rest_go_on(jlis_simulator):
    jlis_simulator.generate(count=40, holders=4)
    jlis_simulator.fault("malformed_event", count=3)
    poll_until_caught_up()
    PollState.objects.update(cursor="")
    poll_until_caught_up()  # the bad events come again: kept once
    corrupt = set(jlis_simulator.events()["corrupt"])
    quarantined = list(QuarantinedEvent.objects.values_list("event_id", "reason"))
    assert 1 <= len(corrupt) <= 3
    assert {event_id for event_id, _ in quarantined} == corrupt and len(quarantined) == len(corrupt)
    assert all(reason for _, reason in quarantined)
    assert set(stored_ids()) == set(jlis_simulator.events()["ids"]) - corrupt


@pytest.mark.faults
@pytest.mark.parametrize("kind", ["duplicate", "out_of_order"])
def test_duplicated_and_reordered_pages_lose_nothing_and_store_once(jlis_simulator, kind):
    jlis_simulator.generate(count=200, holders=20)
    jlis_simulator.fault(kind, probability=1.0)
    results = poll_until_caught_up()
    assert sorted(stored_ids()) == sorted(jlis_simulator.events()["ids"])
    if kind == "duplicate":
        assert sum(r.duplicates for r in results) > 0


@pytest.mark.faults
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_cursor_never_skips_under_random_faults_and_page_sizes(jlis_simulator, settings, seed):
    rng = random.Random(seed)
    jlis_simulator.reset(seed=seed)
    for kind, probability in [
        ("error_5xx", 0.15),
        ("truncated", 0.1),
        ("malformed_body", 0.1),
        ("malformed_event", 0.1),
        ("duplicate", 0.3),
        ("out_of_order", 0.3),
    ]:
        jlis_simulator.fault(kind, probability=probability)
    for _ in range(6):  # J-LIS keeps writing between polls
        count = rng.randint(1, 150)
        jlis_simulator.generate(count=count, holders=rng.randint(1, min(10, count)), seed=rng.randint(0, 99))
        settings.JLIS_PAGE_SIZE = rng.randint(1, 60)
        events_poll(max_pages=rng.randint(1, 5))
    settings.JLIS_PAGE_SIZE = rng.randint(20, 60)
    poll_until_caught_up(max_polls=400)
    everything = jlis_simulator.events()
    corrupt, stored = set(everything["corrupt"]), stored_ids()
    quarantined = set(QuarantinedEvent.objects.values_list("event_id", flat=True))
    assert len(stored) == len(set(stored))  # once each
    assert set(stored) | quarantined == set(everything["ids"])  # nothing lost
    assert quarantined == corrupt and not set(stored) & corrupt  # bad ones kept aside, with a reason
    assert not QuarantinedEvent.objects.filter(reason="").exists()


def test_one_poll_at_a_time_a_claimed_feed_is_busy_until_the_lease_ends(jlis_simulator):
    jlis_simulator.generate(count=5, holders=1)
    PollState.objects.create(name="events", claim_token="someone", claimed_until=timezone.now() + timedelta(minutes=1))
    assert events_poll().status == "busy"
    assert JlisEvent.objects.count() == 0
    PollState.objects.update(claimed_until=timezone.now() - timedelta(seconds=1))  # that poller died
    assert events_poll().status == "done"
    assert JlisEvent.objects.count() == 5


@pytest.mark.redis
def test_a_second_poll_gives_up_at_the_redis_lock_without_touching_the_feed(jlis_simulator):
    jlis_simulator.generate(count=5, holders=1)
    held = redis.Redis.from_url(settings.REDIS_URL).lock(REDIS_LOCK_KEY, timeout=30)
    assert held.acquire(blocking=False)
    try:
        assert events_poll().status == "busy"
        assert not PollState.objects.exists()
    finally:
        held.release()
    assert events_poll().status == "done"


def test_without_redis_the_database_claim_alone_decides(jlis_simulator, settings):
    settings.REDIS_URL = ""
    jlis_simulator.generate(count=5, holders=1)
    assert events_poll().status == "done"
    assert JlisEvent.objects.count() == 5


def _event(event_id: str, seq: int = 1, serial: str = "11") -> Event:
    return Event(
        id=event_id,
        kind="latest_info",
        holder_seq=seq,
        occurred_at=timezone.now(),
        serial=serial,
        consent_id="",
        data={"old_serial": serial, "new_serial": "12", "not_after": "2031-01-01T00:00:00Z", "address": "東京都"},
    )


def test_a_poll_that_lost_its_claim_cannot_store_or_move_the_cursor():
    PollState.objects.create(name="events", cursor="7", claim_token="theirs")
    page = EventPage(events=[_event("ev_1")], next_cursor="8")
    with pytest.raises(PollLost):
        _page_store(token="mine", after="7", page=page, result=PollResult("done"))
    with pytest.raises(PollLost):  # our claim, but the cursor moved under us
        _page_store(token="theirs", after="6", page=page, result=PollResult("done"))
    assert (PollState.objects.get().cursor, JlisEvent.objects.count()) == ("7", 0)


def test_an_id_repeated_with_different_content_is_quarantined_not_overwritten():
    PollState.objects.create(name="events", cursor="", claim_token="mine")
    result = PollResult("done")
    _page_store(token="mine", after="", page=EventPage(events=[_event("ev_1", seq=1)], next_cursor="1"), result=result)
    bad = InvalidEvent("holder_seq is not a positive integer", {"id": "ev_2", "holder_seq": "x"}, "holder_seq")
    page = EventPage(
        events=[_event("ev_1", seq=9), _event("ev_3"), _event("ev_3", seq=4)], invalid=[bad], next_cursor="2"
    )
    _page_store(token="mine", after="1", page=page, result=result)
    assert JlisEvent.objects.get(event_id="ev_1").holder_seq == 1
    assert list(JlisEvent.objects.values_list("event_id", "holder_seq")) == [("ev_1", 1), ("ev_3", 1)]
    reasons = dict(QuarantinedEvent.objects.values_list("event_id", "reason"))
    assert reasons["ev_2"] == "holder_seq is not a positive integer"
    assert "different" in reasons["ev_1"] and "different" in reasons["ev_3"]
    assert PollState.objects.get().cursor == "2"
    kept = list(QuarantinedEvent.objects.values_list("paths", "body_sha256"))
    assert all(paths and len(digest) == 64 for paths, digest in kept)
    assert "東京都" not in repr(list(QuarantinedEvent.objects.values()))  # the repeat's data is not kept
