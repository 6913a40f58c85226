"""Consent events of one holder against each other (DOMAIN.md R9, R6; docs/rules.md, "The event
path's other choices"; docs/reliability.md rules (1)-(5)): a revocation J-LIS reports for a
consent registered through Mynaportal that reaches us before the registration itself.

Found by the backlog machine (tests/model/test_backlogs_follow_the_model.py). Expected values
come from the rules and the independent model (tests/model/holders.py; tests/model/grace.py for
the grace), never from the applier.
"""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from applier.batch import events_apply_pending
from consents.models import Channel, Consent, ConsentStatus, MynaportalLink
from driver_records.models import DriverRecord
from jlis_gateway.inbox import events_pending_count
from jlis_gateway.models import EventKind, EventStatus, JlisEvent
from tests.model.grace import GraceModel
from tests.model.holders import Event as ModelEvent

from .test_appliers_held_records import _consent_event
from .test_appliers_interleavings import _holder, _latest, statuses
from .world import ADDRESSES, _model_event, events_copy, model_holders, records_for_generated, start_state

pytestmark = [pytest.mark.faults, pytest.mark.postgres]

YEAR = timedelta(days=365)
GRACE = timedelta(hours=1)


def _registration(n: int, event_id: str, seq: int, consent_id: str, card: Any, s0: str) -> ModelEvent:
    """A registration through Mynaportal signed with `card` (s0 among the previous serials)."""
    today = timezone.localdate()
    payload = {
        "consent_id": consent_id,
        "items": ["address", "name"],
        "consent_date": today.isoformat(),
        "certificate": base64.b64encode(card.certificate_der).decode(),
        "previous_serials": [s0],
    }
    stored = _consent_event(event_id, EventKind.CONSENT_REGISTERED, seq, card.serial, payload)
    data = dict(payload, consent_date=today, certificate=_certificate_items(n, card))
    return ModelEvent(event_id, "consent_registered", seq, card.serial, stored.occurred_at, data)


def _certificate_items(n: int, card: Any) -> dict[str, Any]:
    record = DriverRecord.objects.get(cert_serial=_holder(n)["serial"])
    return {
        "name": record.name,
        "address": record.address,
        "birth_date": record.birth_date,
        "not_after": card.certificate.not_valid_after_utc,
    }


def _revocation(event_id: str, seq: int, serial: str, consent_id: str) -> ModelEvent:
    payload = {"consent_id": consent_id, "channel": Channel.MYNAPORTAL}
    stored = _consent_event(event_id, EventKind.CONSENT_REVOKED, seq, serial, payload)
    return ModelEvent(event_id, "consent_revoked", seq, serial, stored.occurred_at, dict(payload))


def _holder_linked_at_the_counter(n: int, clerk: Any, issue_card_for: Any) -> tuple[int, str, Any, Any]:
    """A holder on s0 with an active counter consent and Mynaportal linkage made on s0 (R4, R13),
    and the new card s1 they register through Mynaportal with. (record id, s0, card, start)."""
    holder = _holder(n)
    s0 = holder["serial"]
    [record_id] = records_for_generated([holder])
    record = DriverRecord.objects.get(pk=record_id)
    MynaportalLink.objects.create(record=record, linked_at=timezone.now(), linked_by=clerk, cert_serial=s0)
    return record_id, s0, issue_card_for(record), start_state([record_id])


def _model(start: Any, record_id: int, stored: list[ModelEvent], received_at: Any) -> GraceModel:
    """The model with the grace, holding the start, told of the linkage (R4) and of the events
    as stored (all received at `received_at`)."""
    plain = model_holders(start)
    model = GraceModel(GRACE)
    model.holders = plain.holders
    model.holders[record_id].mynaportal_linked = True
    for event in stored:
        model.stored(event)
        model.received(event.id, received_at)
    model.apply(timezone.now())
    return model


def _backlog() -> Any:
    long_ago = timezone.now() - YEAR
    JlisEvent.objects.update(received_at=long_ago)
    return long_ago


def _status_of(model: GraceModel) -> dict[str, tuple[str, str]]:
    names = {"applied": EventStatus.APPLIED, "skipped": EventStatus.SKIPPED, "pending": EventStatus.PENDING}
    return {e.id: (names[e.status], e.reason if e.status == "skipped" else "") for e in model.events.values()}


def _consents(record_id: int) -> dict[str, str]:
    return dict(
        Consent.objects.filter(record_id=record_id, channel=Channel.MYNAPORTAL).values_list("jlis_consent_id", "status")
    )


# Defect found by this attack (open): R9. The holder registers a consent through Mynaportal (r1,
# seq 1) and revokes it through Mynaportal (v2, seq 2); J-LIS's revocation reaches us first and
# both wait in a backlog past the grace. The applier takes v2 first (the order stored): its
# consent id is not known yet (unknown_consent) and, past the grace, it is skipped at once; r1 is
# then applied and its consent becomes active. The revocation is lost: the consent the holder
# revoked governs the feed (and J-LIS's next latest information under it would be applied). The
# model applies r1, then v2 (holder sequence): the consent is revoked. A pending registration
# through Mynaportal announces its consent id as it announces its serial.
def test_a_revocation_reaching_us_before_its_mynaportal_registration_past_the_grace_is_not_lost(
    transactional_db: None, settings: Any, clerk: Any, issue_card_for: Any
):
    settings.JLIS_UNKNOWN_SERIAL_GRACE_SECONDS = int(GRACE.total_seconds())
    n = 3101
    record_id, s0, card, start = _holder_linked_at_the_counter(n, clerk, issue_card_for)
    jm = f"jm_a31_{n}"
    v2 = _revocation(f"ro{n}_2", 2, card.serial, jm)
    r1 = _registration(n, f"ro{n}_1", 1, jm, card, s0)
    long_ago = _backlog()
    model = _model(start, record_id, [v2, r1], long_ago)
    assert _status_of(model) == {f"ro{n}_1": (EventStatus.APPLIED, ""), f"ro{n}_2": (EventStatus.APPLIED, "")}
    assert model.consent(jm).status == "revoked"  # R9

    events_apply_pending()
    assert statuses() == _status_of(model)
    assert _consents(record_id) == {jm: ConsentStatus.REVOKED}
    assert events_pending_count() == 0


def test_control_the_registration_stored_first_is_revoked_past_the_grace(
    transactional_db: None, settings: Any, clerk: Any, issue_card_for: Any
):
    settings.JLIS_UNKNOWN_SERIAL_GRACE_SECONDS = int(GRACE.total_seconds())
    n = 3102
    record_id, s0, card, start = _holder_linked_at_the_counter(n, clerk, issue_card_for)
    jm = f"jm_a31_{n}"
    r1 = _registration(n, f"ro{n}_1", 1, jm, card, s0)
    v2 = _revocation(f"ro{n}_2", 2, card.serial, jm)
    long_ago = _backlog()
    model = _model(start, record_id, [r1, v2], long_ago)
    events_apply_pending()
    assert statuses() == _status_of(model)
    assert _consents(record_id) == {jm: ConsentStatus.REVOKED}


def test_a_revocation_before_its_registration_past_the_grace_keeps_the_next_latest_information_out(
    transactional_db: None, settings: Any, clerk: Any, issue_card_for: Any
):
    """R9 where it shows in the record: after v2, J-LIS's latest information x3 (seq 3, naming s1)
    is not applied (the model: skipped consent_revoked); the address stays the certificate's."""
    settings.JLIS_UNKNOWN_SERIAL_GRACE_SECONDS = int(GRACE.total_seconds())
    n = 3103
    record_id, s0, card, start = _holder_linked_at_the_counter(n, clerk, issue_card_for)
    jm = f"jm_a31_{n}"
    v2 = _revocation(f"ro{n}_2", 2, card.serial, jm)
    r1 = _registration(n, f"ro{n}_1", 1, jm, card, s0)
    x3 = _latest(f"ro{n}_3", 3, card.serial, card.serial, ADDRESSES[2])
    events_copy([x3])
    long_ago = _backlog()
    model = _model(start, record_id, [v2, r1, _model_event(x3)], long_ago)
    assert _status_of(model)[f"ro{n}_3"] == (EventStatus.SKIPPED, "consent_revoked")

    events_apply_pending()
    assert statuses() == _status_of(model)
    assert DriverRecord.objects.get(pk=record_id).address == model.holders[record_id].address != ADDRESSES[2]


# Defect found by this attack (open): holder order between consent events (R6, R9). The holder
# registers jm_a through Mynaportal (r1, seq 1), revokes it (v2, seq 2), registers jm_b (r3,
# seq 3). v2 reaches us first; within the grace it waits (unknown_consent); r1 applies, and then r3
# too, before v2 is tried again: jm_b supersedes jm_a, and v2 finds jm_a superseded
# (consent_superseded). The model, in the holder's sequence: jm_a revoked, then jm_b active. The
# consent the holder revoked shows as replaced, not revoked. Any batch size.
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_a_waiting_revocation_is_not_overtaken_by_the_holders_next_registration(
    transactional_db: None, settings: Any, clerk: Any, issue_card_for: Any, batch_size: int
):
    settings.JLIS_UNKNOWN_SERIAL_GRACE_SECONDS = int(GRACE.total_seconds())
    n = 3104 + batch_size % 7
    record_id, s0, card, start = _holder_linked_at_the_counter(n, clerk, issue_card_for)
    jm_a, jm_b = f"jm_a31_{n}_a", f"jm_a31_{n}_b"
    v2 = _revocation(f"ro{n}_2", 2, card.serial, jm_a)
    r1 = _registration(n, f"ro{n}_1", 1, jm_a, card, s0)
    r3 = _registration(n, f"ro{n}_3", 3, jm_b, card, s0)
    model = _model(start, record_id, [v2, r1, r3], timezone.now())
    assert (model.consent(jm_a).status, model.consent(jm_b).status) == ("revoked", "active")

    events_apply_pending(batch_size=batch_size)
    assert statuses() == _status_of(model)
    assert _consents(record_id) == {jm_a: ConsentStatus.REVOKED, jm_b: ConsentStatus.ACTIVE}
