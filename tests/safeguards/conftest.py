"""Holders with everything the service collects about them: counter consents signed with real
test cards, J-LIS events applied, skipped and waiting, unreadable events, change history from
J-LIS and from the counter, Mynaportal linkage. Two of them, with nothing in common."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from django.utils import timezone

from consents.models import Consent, ConsentStatement
from consents.services import consent_reflect, consent_revoke, mynaportal_link_record
from driver_records.models import DriverRecord
from driver_records.services import record_update
from jlis_gateway.models import EventKind, JlisEvent, OutboxKind, OutboxMessage, OutboxStatus, QuarantinedEvent
from onestop.models import User
from tests.consents import conftest as consent_fixtures
from tests.factories import DriverRecordFactory
from tests.support.one_by_one import event_apply

# The consent tests' fixtures: terms in force, a Tokyo holder, the counter flow with real cards.
terms = consent_fixtures.terms
record = consent_fixtures.record
make_statement = consent_fixtures.make_statement
register = consent_fixtures.register

_ids = itertools.count(1)
NOT_AFTER = "2031-05-17T14:59:59+00:00"


@dataclass
class Holder:
    """A holder and the values that were collected from them (which R15 must erase)."""

    record: DriverRecord
    consent: Consent  # active, reflected by J-LIS
    old_consent: Consent  # revoked earlier
    jlis_consent_id: str
    events: dict[str, JlisEvent]
    quarantined: QuarantinedEvent
    # What J-LIS gave or the card carried and the record no longer holds: it must vanish.
    collected: dict[str, str] = field(default_factory=dict)
    # What the record still holds (the police's own record is kept).
    kept: dict[str, str] = field(default_factory=dict)


def _event(kind: str, *, serial: str, seq: int, status: str = "pending", **payload: object) -> JlisEvent:
    return JlisEvent.objects.create(
        event_id=f"sg-ev-{next(_ids)}",
        kind=kind,
        holder_seq=seq,
        serial=serial,
        jlis_consent_id=str(payload.get("consent_id", "")),
        occurred_at=timezone.now() - timedelta(minutes=10),
        received_at=timezone.now(),
        payload=payload,
        status=status,
    )


def _move(*, old: str, new: str, seq: int, **items: str) -> JlisEvent:
    return _event(
        EventKind.LATEST_INFO, serial=old, seq=seq, old_serial=old, new_serial=new, not_after=NOT_AFTER, **items
    )


@pytest.fixture
def make_holder(register: Callable[..., Consent], clerk: User, supervisor: User) -> Callable[..., Holder]:
    """make_holder(tag, names..., addresses...) builds one holder's whole story."""

    def make(tag: str, *, names: tuple[str, str, str], addresses: tuple[str, ...], birth: date) -> Holder:
        n0, n1, n2 = names
        a0, a1, a2, a3 = addresses
        record = DriverRecordFactory(name=n0, address=a0, birth_date=birth, prefecture="13")
        # An earlier consent, revoked at the counter before J-LIS reflected it.
        old = register(record, items=("address",))
        consent_revoke(consent_id=old.pk, actor=supervisor, reason="本人の申出")
        consent = register(record)
        jlis_id = f"J-{tag}-1"
        OutboxMessage.objects.filter(consent=consent, kind=OutboxKind.SUBMIT_CONSENT).update(
            status=OutboxStatus.SENT, response={"consent_id": jlis_id, "status": "accepted"}
        )
        reflected = _event(
            EventKind.CONSENT_REFLECTED,
            serial=consent.cert_serial,
            seq=1,
            consent_id=jlis_id,
            consent_date="2026-04-01",
        )
        consent_reflect(consent_id=consent.pk, consent_date=date(2026, 4, 1), jlis_consent_id=jlis_id)
        JlisEvent.objects.filter(pk=reflected.pk).update(status="applied", processed_at=timezone.now())
        mynaportal_link_record(record_id=record.pk, actor=clerk)
        s1 = consent.cert_serial
        s2, s3, s4 = f"{s1}1", f"{s1}2", f"{s1}3"
        # J-LIS: two moves applied (R10), the counter corrects the name, one more move waits.
        first = _move(old=s1, new=s2, seq=2, name=n1, address=a1)
        event_apply(event_pk=first.pk)  # one event at a time: other holders' events stay as they are
        record.refresh_from_db()
        record_update(record_id=record.pk, expected_version=record.version, changes={"name": n2}, actor=clerk)
        second = _move(old=s2, new=s3, seq=3, address=a2)
        event_apply(event_pk=second.pk)
        waiting = _move(old=s3, new=s4, seq=4, address=a3)
        # J-LIS repeats the waiting event's id with other content: quarantined, with no values kept.
        quarantined = QuarantinedEvent.objects.create(
            event_id=waiting.event_id,
            reason="event id seen before with a different kind, holder_seq, serial or consent",
            paths=["kind", "holder_seq", "serial", "data.consent_id"],
            body_sha256="0" * 64,
            received_at=timezone.now(),
        )
        record.refresh_from_db()
        consent.refresh_from_db()
        old.refresh_from_db()
        statement = ConsentStatement.objects.get(consent=consent)
        certificate, signature = bytes(consent.certificate), bytes(consent.signature)
        return Holder(
            record=record,
            consent=consent,
            old_consent=old,
            jlis_consent_id=jlis_id,
            events={"reflected": reflected, "first": first, "second": second, "waiting": waiting},
            quarantined=quarantined,
            collected={
                "original name (certificate, history)": n0,
                "name J-LIS gave": n1,
                "original address (certificate, history)": a0,
                "address J-LIS gave first": a1,
                "address waiting to be applied": a3,
                # Certificates share the session's test key: their own signature part tells them apart.
                "certificate": certificate[-64:].hex(),
                "signature": signature[-64:].hex(),
                "statement": f"記録番号: {record.number}",
                "statement nonce line": statement.text.splitlines()[-1],
            },
            kept={"name": n2, "address": a2, "number": record.number, "serial": s3},
        )

    return make


@pytest.fixture
def suspect(make_holder: Callable[..., Holder]) -> Holder:
    return make_holder(
        "a",
        names=("鈴木　一郎", "鈴木　壱郎", "鈴木　一朗"),
        addresses=(
            "東京都千代田区霞が関二丁目１番１号",
            "東京都府中市多磨町３丁目１番地",
            "東京都新宿区西新宿二丁目８番１号",
            "東京都台東区上野公園１３番９号",
        ),
        birth=date(1975, 1, 2),
    )


@pytest.fixture
def bystander(make_holder: Callable[..., Holder]) -> Holder:
    """Another holder of the same prefecture, whose data nothing here may touch."""
    return make_holder(
        "b",
        names=("高橋　花子", "高橋　華子", "高橋　はな子"),
        addresses=(
            "東京都八王子市元本郷町三丁目２４番１号",
            "東京都立川市曙町二丁目１番１号",
            "東京都町田市森野二丁目２番２２号",
            "東京都調布市小島町二丁目３５番地１",
        ),
        birth=date(1988, 8, 8),
    )
