"""The model-based machine where machine.py never looks: backlogs older than the grace period,
one holder's events split across batches (batch sizes 1 to 3) and across two apply runs
interleaved batch by batch. The model is holders.py with the grace (grace.py); everything else,
and every comparison after every step, is machine.py's.

The grace is an hour here, so besides the backlog step (every pending event's received_at moved
a year back, in the inbox and in the model alike, as tests/faults' `_backlog` does) the world's
days passing make whatever is pending a backlog too. The two interleaved runs share the test's
one session (the machine runs in one transaction that is rolled back): they take turns batch by
batch (a greenlet each), so each run's cursor, waiting list and retry rounds meet what the other
applied meanwhile; records another session holds are tests/faults' business.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from greenlet import greenlet
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from applier import batch as applier_batch
from applier.batch import events_apply_pending
from jlis_gateway.models import EventStatus, JlisEvent

from .grace import GraceModel
from .machine import ITEMS, STATS, TOKYO, HoldersAgainstTheModel

GRACE = timedelta(hours=1)
YEAR = timedelta(days=365)


@contextmanager
def batches_take_turns(runs: list[greenlet]) -> Iterator[None]:
    """While it lasts, an apply run hands over to the next run still going after each batch."""
    real = applier_batch._batch

    def batch_then_hand_over(*args: Any, **kwargs: Any) -> Any:
        done = real(*args, **kwargs)
        me = greenlet.getcurrent()
        others = [g for g in runs if g is not me and not g.dead]
        if others:
            others[0].switch()
        return done

    applier_batch._batch = batch_then_hand_over  # type: ignore[assignment]
    try:
        yield
    finally:
        applier_batch._batch = real  # type: ignore[assignment]


def runs_interleaved(at: datetime, sizes: tuple[int, int]) -> None:
    """Two apply runs, taking turns batch by batch, until both have ended."""
    runs: list[greenlet] = []
    for size in sizes:
        runs.append(greenlet(lambda size=size: events_apply_pending(batch_size=size, at=at)))
    with batches_take_turns(runs):
        while not all(g.dead for g in runs):
            for g in runs:
                if not g.dead:
                    g.switch()


class BacklogsAgainstTheModel(HoldersAgainstTheModel):
    def __init__(self) -> None:
        super().__init__()
        assert timedelta(seconds=settings.JLIS_UNKNOWN_SERIAL_GRACE_SECONDS) == GRACE
        self.model = GraceModel(GRACE)

    def deliver(self, batch: list[dict[str, Any]]) -> None:
        super().deliver(batch)
        ids = [raw["id"] for raw in batch]
        for event_id, at in JlisEvent.objects.filter(event_id__in=ids).values_list("event_id", "received_at"):
            self.model.received(event_id, at)

    # machine.py's rules spend most steps elsewhere (142 of 400 counter registrations at the
    # wrong prefecture's counter, holding-status changes): here the counter is the holder's own,
    # so the steps go to consents, moves and the order their events reach us in.
    @rule(data=st.data(), items=st.sets(st.sampled_from(ITEMS), min_size=1))
    def register_at_the_counter(self, data: st.DataObject, items: set[str]) -> None:  # type: ignore[override]
        i = data.draw(st.integers(0, len(self.records) - 1))
        assume(not self.jholders[i].expired)
        self.register(i, items, self.model.holders[self.records[i].pk].prefecture or "13")

    @rule(data=st.data())
    def mynaportal_linkage_recorded(self, data: st.DataObject) -> None:  # type: ignore[override]
        i = data.draw(st.integers(0, len(self.records) - 1))
        self.link(i, self.model.holders[self.records[i].pk].prefecture or "13")

    holding_status_changes = None  # type: ignore[assignment]  # machine.py's own run covers R12

    # Orders the attack is after, as one step each (hypothesis's short sequences seldom put them
    # together): a consent registered at the counter, then a move at J-LIS before its reflection;
    # J-LIS's events delivered newest first into a backlog and applied in small batches.
    @rule(data=st.data(), address=st.sampled_from(TOKYO), reflect=st.booleans())
    def counter_consent_then_a_move_before_its_reflection(
        self, data: st.DataObject, address: str, reflect: bool
    ) -> None:
        i = data.draw(st.integers(0, len(self.records) - 1))
        holder = self.jholders[i]
        assume(not holder.expired and address != holder.address)
        self.register(i, {"address", "name"}, self.model.holders[self.records[i].pk].prefecture or "13")
        self.made(self.jlis.change(holder, address=address))  # under the consent in force, if any
        pending = [c for c in self.jconsents("pending") if c.holder is holder]
        if reflect and pending:
            STATS["reflected after a move"] += 1
            self.made(self.jlis.reflect(pending[-1], self.consent_date_choice(data, holder)))

    @precondition(lambda self: self.jlis.made)
    @rule(size=st.sampled_from([1, 2, 3]))
    def jlis_delivers_newest_first_into_a_backlog(self, size: int) -> None:
        STATS["newest first into a backlog"] += 1
        self.deliver(list(reversed(self.jlis.made)))
        self.the_pending_events_become_a_backlog()
        self.apply_with(lambda at: events_apply_pending(batch_size=size, at=at))

    @precondition(lambda self: JlisEvent.objects.filter(status=EventStatus.PENDING).exists())
    @rule()
    def the_pending_events_become_a_backlog(self) -> None:
        """The applier was down: what is pending was received a year ago, past the grace."""
        STATS["backlog"] += 1
        long_ago = self.now - YEAR
        pending = JlisEvent.objects.filter(status=EventStatus.PENDING)
        self.model.received_long_ago(list(pending.values_list("event_id", flat=True)), long_ago)
        pending.update(received_at=long_ago)

    @rule(size=st.sampled_from([1, 2, 3]))
    def applier_runs_in_small_batches(self, size: int) -> None:
        STATS[f"small batches {size}"] += 1
        self.apply_with(lambda at: events_apply_pending(batch_size=size, at=at))

    @rule(sizes=st.tuples(st.sampled_from([1, 2, 3]), st.sampled_from([1, 2, 3])))
    def two_runs_take_turns(self, sizes: tuple[int, int]) -> None:
        STATS["two runs interleaved"] += 1
        self.apply_with(lambda at: runs_interleaved(at, sizes))

    def apply(self, path: str) -> None:
        """The batch path for both of machine.py's paths: the per-event path of the tests
        (tests/support/one_by_one.py) gives up on an unknown serial at the grace without looking
        at what announces it; it is the batch path's reference for events within the grace."""
        self.apply_with(lambda at: events_apply_pending(at=at))

    def apply_with(self, run: Callable[[datetime], Any]) -> None:
        """Runs until one changes nothing (at most five, as machine.py), then the model's run."""
        for _ in range(5):
            before = list(JlisEvent.objects.order_by("pk").values_list("status", flat=True))
            run(self.now)
            if list(JlisEvent.objects.order_by("pk").values_list("status", flat=True)) == before:
                break
        self.model.apply(self.now)
