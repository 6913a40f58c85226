"""R2, R15: an unreadable event is kept without its values (id, cursor, reason, failing paths,
body hash), and an operator can have J-LIS serve it again once corrected."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import pytest
import requests
from django.core.management import call_command

from jlis_gateway.models import JlisEvent, PollState, QuarantinedEvent
from jlis_gateway.services.poll import events_poll
from onestop.models import AuditEvent

pytestmark = [pytest.mark.django_db, pytest.mark.faults]


def served_feed(base_url: str) -> list[dict[str, Any]]:
    """The feed as J-LIS serves it, read beside the poller (an outside view of the bodies)."""
    events: list[dict[str, Any]] = []
    after = ""
    while True:
        page = requests.get(f"{base_url}/v1/events", params={"after": after, "limit": 100}, timeout=30).json()
        events += page["events"]
        if not page["has_more"]:
            return events
        after = page["next_cursor"]


def strings_in(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set().union(*(strings_in(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(strings_in(v) for v in value)) if value else set()
    return {str(value)} if isinstance(value, str | int) and not isinstance(value, bool) else set()


def poll_all() -> None:
    for _ in range(50):
        result = events_poll()
        if result.status == "done" and not result.has_more:
            return
    pytest.fail("the poll did not catch up")


@pytest.fixture
def one_bad_event(jlis_simulator, caplog) -> dict[str, Any]:
    jlis_simulator.generate(count=12, holders=3, items=["name", "address", "birth_date"])
    jlis_simulator.fault("malformed_event", count=1)
    caplog.set_level(logging.DEBUG)
    poll_all()
    (bad_id,) = jlis_simulator.events()["corrupt"]
    (body,) = [e for e in served_feed(jlis_simulator.base_url) if e.get("id") == bad_id]
    return body


def test_r02_r15_a_quarantined_event_keeps_its_id_reason_paths_and_hash_and_none_of_its_values(one_bad_event, caplog):
    body = one_bad_event
    row = QuarantinedEvent.objects.get()
    assert row.event_id == body["id"] and row.reason and row.paths
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert row.body_sha256 == hashlib.sha256(canonical.encode()).hexdigest()
    stored = json.dumps(list(QuarantinedEvent.objects.values()), ensure_ascii=False, default=str)
    values = {v for v in strings_in(body) if len(v) >= 4 and v != body["id"]}
    assert values  # names, addresses, serials, dates: something to look for
    logged = caplog.text
    for value in values:
        assert value not in stored, value
        assert value not in logged, value


def test_an_operator_has_a_corrected_event_served_again_and_it_is_stored_once(one_bad_event, jlis_simulator):
    row = QuarantinedEvent.objects.get()
    cursor_before = PollState.objects.get().cursor
    out = _refetch(row.pk)
    assert "still unreadable" in out and row.reason in out  # J-LIS has not corrected it yet
    assert not JlisEvent.objects.filter(event_id=row.event_id).exists()

    jlis_simulator.repair(event_id=row.event_id)  # J-LIS corrects it, as the operator asked
    assert "stored" in _refetch(row.pk)
    event = JlisEvent.objects.get(event_id=row.event_id)
    assert event.status == "pending"  # the applier takes it in its holder's order
    row.refresh_from_db()
    assert row.resolved_at is not None
    assert PollState.objects.get().cursor == cursor_before  # the feed's cursor did not move
    audit = AuditEvent.objects.get(action="jlis_event.refetch")
    assert audit.new_values == {"event_id": row.event_id, "outcome": "stored"}

    assert "already resolved" in _refetch(row.pk)
    PollState.objects.update(cursor="")
    poll_all()  # the whole feed read again: the event is not stored twice nor quarantined again
    assert JlisEvent.objects.filter(event_id=row.event_id).count() == 1
    assert QuarantinedEvent.objects.count() == 1


def test_refetch_refuses_an_unknown_id_and_an_empty_call(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no quarantined event 999"):
        call_command("jlis_refetch", "999")
    with pytest.raises(CommandError, match="--all"):
        call_command("jlis_refetch")


def _refetch(pk: int) -> str:
    from io import StringIO

    out = StringIO()
    call_command("jlis_refetch", str(pk), stdout=out)
    return out.getvalue()
