"""The world the fault scenarios run in: driver records and consents for the simulator's
generated holders, and the reference outcome of applying a stream of events in order.

The reference is a fold over the applier's pure decision (driver_records/applier/decide.py) on
in-memory copies of the records: what applying every event once, in order, must give.
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from consents.models import Channel, Consent, ConsentStatus, TermsVersion
from consents.period import consent_period
from driver_records.applier.decide import ConsentView, EventView, RecordState, decide_latest_info
from driver_records.applier.state import RECORD_FIELDS, consents_for
from driver_records.models import DriverRecord, RecordChange
from driver_records.normalise import name_search_key
from jlis_gateway.models import EventStatus, JlisEvent
from onestop.models import AuditEvent

ISSUER_KEY_ID = "ab" * 20
RECORD_STATE = ("id", "name", "address", "birth_date", "cert_serial", "cert_not_after", "jlis_seq")
NOT_AFTER = "2030-05-17T14:59:59+00:00"
FAMILY = ["山田", "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "中村"]
GIVEN = ["太郎", "花子", "一郎", "美咲", "健太", "陽菜"]
ADDRESSES = [
    "東京都千代田区霞が関二丁目１番１号",
    "東京都府中市多磨町３丁目１番地",
    "東京都新宿区西新宿二丁目８番１号",
    "大阪府門真市一番町２３番１６号",
]


@dataclass
class Stream:
    holders: list[dict[str, Any]]  # as the simulator's generate answers
    events: list[dict[str, Any]]  # as stored_events() reads them, in feed order


def stream_generate(*, count: int, holders: int, seed: int) -> Stream:
    """J-LIS's feed for many holders moving and renaming, made here (as the simulator's
    generate makes it) so that 100,000 events can be loaded in seconds: each event names the
    serial its holder's previous event issued."""
    rng = random.Random(seed)
    today = timezone.localdate().isoformat()
    people = [
        {
            "holder": i + 1,
            "serial": f"8{seed:04d}{i:06d}{0:06d}",
            "name": f"{rng.choice(FAMILY)}　{rng.choice(GIVEN)}",
            "address": rng.choice(ADDRESSES),
            "birth_date": (date(1950, 1, 1) + timedelta(days=rng.randrange(20000))).isoformat(),
            "items": ["address", "name", "birth_date"],
            "consent_id": f"jc_s{seed}_{i}",
            "consent_date": today,
        }
        for i in range(holders)
    ]
    current = [dict(p, seq=0) for p in people]
    occurred_at = timezone.now() - timedelta(minutes=1)
    events = []
    for n in range(count):
        person = current[rng.randrange(holders)]
        if rng.random() < 0.8:
            person["address"] = rng.choice([a for a in ADDRESSES if a != person["address"]])
        else:
            person["name"] = f"{rng.choice(FAMILY)}　{person['name'].split('　')[1]}"
        person["seq"] += 1
        old, new = person["serial"], f"8{seed:04d}{person['holder'] - 1:06d}{person['seq']:06d}"
        person["serial"] = new
        payload = {"old_serial": old, "new_serial": new, "not_after": NOT_AFTER}
        payload |= {item: person[item] for item in ("address", "name", "birth_date")}
        events.append(
            {
                "event_id": f"ev_s{seed}_{n}",
                "holder_seq": person["seq"],
                "serial": old,
                "occurred_at": occurred_at,
                "payload": payload,
            }
        )
    return Stream(people, events)


def events_copy(events: list[dict[str, Any]]) -> None:
    """Store "latest information" events as the poller would (pending), with COPY."""
    received_at = timezone.now()
    with connection.cursor() as cursor:
        sql = (
            "COPY jlis_gateway_jlisevent (event_id, kind, holder_seq, serial, jlis_consent_id, occurred_at, payload,"
            " received_at, status, reason) FROM STDIN"
        )
        with cursor.cursor.copy(sql) as copy:
            for e in events:
                copy.write_row(
                    (
                        e["event_id"],
                        "latest_info",
                        e["holder_seq"],
                        e["serial"],
                        "",
                        e["occurred_at"],
                        json.dumps(e["payload"], ensure_ascii=False),
                        received_at,
                        EventStatus.PENDING,
                        "",
                    )
                )


def records_for_generated(holders: list[dict[str, Any]]) -> list[int]:
    """A card-only licence record with an active consent for each generated holder, linked to the
    holder's serial (what registering and reflecting each of them would have left)."""
    terms, _ = TermsVersion.objects.get_or_create(
        version="2025-03", defaults={"effective_date": date(2025, 3, 24), "text": "利用規約"}
    )
    now = timezone.now()
    records = DriverRecord.objects.bulk_create(
        [
            DriverRecord(
                kind="licence",
                number=f"5{h['holder']:010d}0",
                name=h["name"],
                name_key=name_search_key(h["name"]),
                birth_date=date.fromisoformat(h["birth_date"]),
                address=h["address"],
                holding_status="licence_card_only",
                cert_serial=h["serial"],
                cert_issuer_key_id=ISSUER_KEY_ID,
                cert_not_after=now + timedelta(days=4 * 365),
            )
            for h in holders
        ],
        batch_size=1000,
    )
    consents = []
    for record, h in zip(records, holders, strict=True):
        consent_date = date.fromisoformat(h["consent_date"])
        first_day, last_day = consent_period(consent_date)
        consents.append(
            Consent(
                record=record,
                reference=f"G-{h['holder']}",
                items=h["items"],
                channel=Channel.COUNTER,
                terms_version=terms,
                status=ConsentStatus.ACTIVE,
                created_at=now - timedelta(days=1),
                cert_serial=h["serial"],
                cert_issuer_key_id=ISSUER_KEY_ID,
                jlis_consent_id=h["consent_id"],
                consent_date=consent_date,
                first_day=first_day,
                last_valid_day=last_day,
            )
        )
    Consent.objects.bulk_create(consents, batch_size=1000)
    return [record.pk for record in records]


@dataclass
class Reference:
    """What applying the events once each, in order, leaves."""

    records: dict[int, tuple[Any, ...]]
    history: set[tuple[str, str]]  # (event id, field) for each change
    applied: set[str]
    not_applied: dict[str, str] = field(default_factory=dict)  # event id -> skip reason or "waiting"


@dataclass
class Start:
    """The records and their consents before anything is applied."""

    records: list[RecordState]
    consents: dict[int, ConsentView]


def start_state(record_ids: Iterable[int] | None = None) -> Start:
    """The records (all, or these) and the consents that govern their feed, as they are now."""
    rows = DriverRecord.objects.all() if record_ids is None else DriverRecord.objects.filter(pk__in=list(record_ids))
    records = [RecordState(**row) for row in rows.values(*RECORD_FIELDS)]
    return Start(records, consents_for(r.id for r in records))


def reference_fold(
    events: Iterable[dict[str, Any]], *, start: Start | None = None, today: date | None = None
) -> Reference:
    """Fold the events (in the order given) over copies of the records as they were at `start`
    (now, by default)."""
    today = today or timezone.localdate()
    start = start or start_state()
    records = [dataclasses.replace(r) for r in start.records]
    consents = start.consents
    index = {r.cert_serial: r for r in records if r.cert_serial}
    history: set[tuple[str, str]] = set()
    applied: set[str] = set()
    not_applied: dict[str, str] = {}
    for event in events:
        record = index.get(event["serial"])
        if record is None:
            not_applied[event["event_id"]] = "waiting"
            continue
        view = EventView(
            event["event_id"], event["holder_seq"], event["serial"], event["occurred_at"], event["payload"]
        )
        decision = decide_latest_info(view, record, consents.get(record.id), today)
        if decision.skip:
            not_applied[event["event_id"]] = decision.skip
            continue
        for item, value in decision.changes.items():
            history.add((event["event_id"], item))
            setattr(record, item, value)
        if decision.new_serial != record.cert_serial:
            history.add((event["event_id"], "cert_serial"))
            del index[record.cert_serial]
            record.cert_serial = decision.new_serial
            index[record.cert_serial] = record
        if decision.new_not_after != record.cert_not_after:
            history.add((event["event_id"], "cert_not_after"))
            record.cert_not_after = decision.new_not_after
        record.jlis_seq = event["holder_seq"]
        applied.add(event["event_id"])
    state = {r.id: tuple(getattr(r, name) for name in RECORD_STATE) for r in records}
    return Reference(state, history, applied, not_applied)


def stored_events(*, order: str = "pk") -> list[dict[str, Any]]:
    """The stored events as the fold reads them, in the given order."""
    return list(JlisEvent.objects.order_by(order).values("event_id", "holder_seq", "serial", "occurred_at", "payload"))


@dataclass
class Outcome:
    """What the applier left in the database."""

    records: dict[int, tuple[Any, ...]]
    history: list[tuple[str, str]]
    applied: set[str]
    audit_per_event: dict[str, int]
    statuses: dict[str, int]


def outcome() -> Outcome:
    records = {row[0]: row for row in DriverRecord.objects.values_list(*RECORD_STATE)}
    history = list(RecordChange.objects.filter(source="jlis").values_list("jlis_event_id", "field"))
    applied = set(JlisEvent.objects.filter(status=EventStatus.APPLIED).values_list("event_id", flat=True))
    audit: dict[str, int] = {}
    for event_id in AuditEvent.objects.filter(action="record.apply_jlis").values_list(
        "new_values__event_id", flat=True
    ):
        audit[event_id] = audit.get(event_id, 0) + 1
    statuses: dict[str, int] = {}
    for status in JlisEvent.objects.values_list("status", flat=True):
        statuses[status] = statuses.get(status, 0) + 1
    return Outcome(records, history, applied, audit, statuses)


def assert_matches(result: Outcome, reference: Reference) -> None:
    """The database equals the reference, and each applied change is written exactly once."""
    assert result.records == reference.records
    assert len(result.history) == len(set(result.history))  # each (event, field) once
    assert set(result.history) == reference.history
    assert result.applied == reference.applied
    assert result.audit_per_event == dict.fromkeys(reference.applied, 1)  # one audit row per applied event
