"""The reference model with the grace period (docs/rules.md, "The event path's other choices"):
written from that text alone, like holders.py, and importing nothing of the application.

holders.py lets an event it cannot place wait for ever (its test sets the grace beyond its
runs). The rules give up on one after `JLIS_UNKNOWN_SERIAL_GRACE_SECONDS`: an event received at
least the grace before the run that names a serial no record is or was linked to is skipped
`unknown_serial`, unless a pending event before it in J-LIS's order (a lower holder sequence)
announces that serial (latest information moving to it, a consent reflected or registered through
Mynaportal naming it: J-LIS's next event after a change names the serial the change issued, so
the event issuing a serial comes before every event naming it, and one after it announces nothing
to it), or a consent registered at the
counter with that certificate, J-LIS's id for it stored, is still pending (its reflection links
the record: the wait ends when it leaves pending). A consent event naming a consent id we do not
know waits likewise (applier/consent_events.py's WAIT_REASONS: "the event waits like one about an
unknown serial"), and after the grace is skipped `unknown_consent`, unless a pending registration
through Mynaportal announces that id (applying it makes the consent: R9, a revocation J-LIS
reports is honoured, whichever of the two reaches us first).

Giving up never places anything: the model applies what it can (holders.py), gives up on what
is past the grace and announced by nothing still pending, and repeats until neither changes
anything (an event given up announces nothing any more).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from .holders import Event, Model

CONSENT_EVENTS = frozenset({"consent_reflected", "consent_rejected", "consent_revoked"})


class GraceModel(Model):
    def __init__(self, grace: timedelta) -> None:
        super().__init__()
        self.grace = grace
        self.received_at: dict[str, datetime] = {}  # event id -> when the door stored it

    def received(self, event_id: str, at: datetime) -> None:
        """When the door stored the event (a repeat keeps the first time)."""
        self.received_at.setdefault(event_id, at)

    def received_long_ago(self, event_ids: list[str], at: datetime) -> None:
        """A backlog: these events were received at `at` (before the grace, say)."""
        for event_id in event_ids:
            self.received_at[event_id] = at

    def apply(self, at: datetime) -> None:
        while True:
            super().apply(at)
            if not self._give_up(at):
                return

    def _give_up(self, at: datetime) -> bool:
        pending = [e for e in self.events.values() if e.status == "pending"]
        serials, consent_ids = self._announced(pending)
        given_up = False
        for event in pending:
            if at - self.received_at[event.id] < self.grace:
                continue
            found = self._place(event)
            if (
                found == "unknown_serial"
                and event.kind == "latest_info"
                and serials.get(event.serial, event.holder_seq) >= event.holder_seq
            ):
                event.status, event.reason, given_up = "skipped", "unknown_serial", True
            elif (
                found == "unknown_consent"
                and event.kind in CONSENT_EVENTS
                and event.data["consent_id"] not in consent_ids
            ):
                event.status, event.reason, given_up = "skipped", "unknown_consent", True
        return given_up

    def _announced(self, pending: list[Event]) -> tuple[dict[str, int], set[str]]:
        """serial -> the lowest holder sequence announcing it (0: a counter consent awaiting its
        reflection, which no event orders); the consent ids pending registrations make."""
        serials: dict[str, int] = {}
        consent_ids: set[str] = set()

        def announce(serial: str, seq: int) -> None:
            serials[serial] = min(seq, serials.get(serial, seq))

        for event in pending:
            data: dict[str, Any] = event.data
            if event.kind == "latest_info" and data["new_serial"] != event.serial:
                announce(data["new_serial"], event.holder_seq)
            elif event.kind in ("consent_reflected", "consent_registered"):
                announce(event.serial, event.holder_seq)
            if event.kind == "consent_registered":
                consent_ids.add(data["consent_id"])
        for holder in self.holders.values():
            for consent in holder.consents:
                if consent.status == "pending" and consent.channel == "counter" and consent.jlis_id:
                    announce(consent.cert_serial, 0)
        return serials, consent_ids
