"""The world the fault scenarios run in: driver records and consents for the simulator's
generated holders, and the reference outcome of applying a stream of events in order.

The reference is what the independent model of the rules (tests/model/holders.py, which imports
nothing of the applier) says applying every event once, in order, must give: a wrong decision in
the applier makes the records differ from it.
"""

from __future__ import annotations

import heapq
import json
import random
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection, connections
from django.utils import timezone

from consents.models import Channel, Consent, ConsentStatus, TermsVersion
from consents.period import consent_period
from driver_records.models import DriverRecord, RecordChange
from driver_records.normalise import name_search_key
from jlis_gateway.models import EventStatus, JlisEvent
from onestop.models import AuditEvent
from tests.model.holders import Consent as ModelConsent
from tests.model.holders import Event as ModelEvent
from tests.model.holders import Holder, Model

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
    """Store "latest information" events as the poller would (pending), with COPY (on SQLite,
    which has no COPY, with one bulk insert)."""
    received_at = timezone.now()
    if connection.vendor != "postgresql":
        JlisEvent.objects.bulk_create(
            JlisEvent(
                event_id=e["event_id"],
                kind="latest_info",
                holder_seq=e["holder_seq"],
                serial=e["serial"],
                occurred_at=e["occurred_at"],
                payload=e["payload"],
                received_at=received_at,
                status=EventStatus.PENDING,
            )
            for e in events
        )
        return
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
    """The records and their consents before anything is applied, as stored rows: the model is
    built from them, so the reference starts where the applier does."""

    records: list[dict[str, Any]]
    consents: dict[int, list[dict[str, Any]]]  # record id -> its consents, oldest first


START_RECORD = (
    "id", "name", "address", "birth_date", "holding_status", "cert_serial", "cert_not_after", "cert_seq",
    "jlis_seq", "feed_stopped_at",
)  # fmt: skip
START_CONSENT = (
    "record_id", "reference", "jlis_consent_id", "channel", "items", "status", "cert_serial", "created_at",
    "consent_date", "first_day", "last_valid_day",
)  # fmt: skip


def start_state(record_ids: Iterable[int] | None = None) -> Start:
    """The records (all, or these) and their consents, as they are now."""
    rows = DriverRecord.objects.all() if record_ids is None else DriverRecord.objects.filter(pk__in=list(record_ids))
    records = list(rows.values(*START_RECORD))
    consents: dict[int, list[dict[str, Any]]] = {r["id"]: [] for r in records}
    for row in Consent.objects.filter(record_id__in=list(consents)).order_by("created_at", "pk").values(*START_CONSENT):
        consents[row["record_id"]].append(row)
    return Start(records, consents)


def model_holders(start: Start) -> Model:
    """The reference model (tests/model/holders.py) holding the start's records and consents.

    R12 in the model counts how often the holding status left card-only (`epoch`); a record
    whose feed was stopped is one stop ahead of the consents registered before the stop."""
    model = Model()
    for row in start.records:
        holder = model.holder_add(
            row["id"],
            name=row["name"],
            address=row["address"],
            birth_date=row["birth_date"],
            holding_status=row["holding_status"],
        )
        stopped = row["feed_stopped_at"]
        holder.epoch = 1 if stopped is not None else 0
        if row["cert_serial"]:
            holder.serial, holder.link_seq = row["cert_serial"], row["cert_seq"]
            holder.known_serials.add(row["cert_serial"])
            holder.not_after[row["cert_serial"]] = row["cert_not_after"]
        holder.data_seq = row["jlis_seq"]
        for n, c in enumerate(start.consents.get(row["id"], [])):
            holder.consents.append(
                ModelConsent(
                    key=c["reference"] or c["jlis_consent_id"],
                    channel=c["channel"],
                    items=frozenset(c["items"]),
                    cert_serial=c["cert_serial"],
                    cert_not_after=None,
                    order=n,
                    epoch=0 if stopped is not None and c["created_at"] <= stopped else holder.epoch,
                    status=c["status"],
                    jlis_id=c["jlis_consent_id"],
                    consent_date=c["consent_date"],
                    first_day=c["first_day"],
                    last_valid_day=c["last_valid_day"],
                )
            )
    return model


def _model_event(event: dict[str, Any]) -> ModelEvent:
    """A stored "latest information" event as the model takes it (dates as dates)."""
    data = dict(event["payload"])
    data["not_after"] = datetime.fromisoformat(data["not_after"])
    if "birth_date" in data:
        data["birth_date"] = date.fromisoformat(data["birth_date"])
    return ModelEvent(
        event["event_id"], "latest_info", event["holder_seq"], event["serial"], event["occurred_at"], data
    )


def _state(holder: Holder) -> tuple[Any, ...]:
    """A holder in the model as the record's RECORD_STATE columns."""
    return (
        holder.key, holder.name, holder.address, holder.birth_date, holder.serial, holder.cert_not_after,
        holder.data_seq,
    )  # fmt: skip


def reference_fold(
    events: Iterable[dict[str, Any]], *, start: Start | None = None, at: datetime | None = None
) -> Reference:
    """What the rules say applying these events to the records as they were at `start` (now, by
    default) leaves: the reference model decides every event (tests/model/holders.py, written
    from DOMAIN.md; nothing of the applier). The model places an event by a serial its holder is
    or was linked to and takes each holder's placed events in holder sequence; this fold does the
    same with an index of serials, as the model's own `apply` would take minutes for 100,000."""
    at = at or timezone.now()
    model = model_holders(start or start_state())
    index = {serial: h for h in model.holders.values() for serial in h.known_serials}
    waiting: dict[str, list[ModelEvent]] = {}
    placed: dict[Any, list[tuple[int, int, ModelEvent]]] = {}
    ready: list[Any] = []
    order = 0

    def place(event: ModelEvent) -> None:
        nonlocal order
        holder = index.get(event.serial)
        if holder is None:
            waiting.setdefault(event.serial, []).append(event)
            return
        order += 1
        heapq.heappush(placed.setdefault(holder.key, []), (event.holder_seq, order, event))
        ready.append(holder.key)

    for raw in events:
        event = _model_event(raw)
        if event.id not in model.events:  # J-LIS's repeat of an event is the same event
            model.stored(event)
            place(event)
    history: set[tuple[str, str]] = set()
    while ready:
        key = ready.pop()
        queue = placed.get(key)
        if not queue:
            continue
        holder = model.holders[key]
        _, _, event = heapq.heappop(queue)
        before = _state(holder)
        model.apply_placed(event, holder, at)
        after = _state(holder)
        for name, old, new in zip(RECORD_STATE[1:6], before[1:6], after[1:6], strict=True):
            if old != new:
                history.add((event.id, name))  # a change row for each column that moved
        for serial in holder.known_serials - index.keys():
            index[serial] = holder
            for later in waiting.pop(serial, []):
                place(later)
        if queue:
            ready.append(key)
    applied = {e.id for e in model.events.values() if e.status == "applied"}
    not_applied = {
        e.id: "waiting" if e.status == "pending" else e.reason for e in model.events.values() if e.status != "applied"
    }
    state = {h.key: _state(h) for h in model.holders.values()}
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


@contextmanager
def record_held(record_id: int) -> Iterator[None]:
    """Another session (a clerk's change) holds the record for the block; the applier's session
    may not wait for it (lock_timeout)."""
    clerk = connections.create_connection("default")
    try:
        clerk.set_autocommit(False)
        with clerk.cursor() as cursor:
            cursor.execute("SELECT 1 FROM driver_records_driverrecord WHERE id = %s FOR UPDATE", [record_id])
        with connections["default"].cursor() as cursor:
            cursor.execute("SET lock_timeout = '5s'")  # waiting for the record fails the run
        yield
    finally:
        clerk.rollback()
        clerk.close()
        with connections["default"].cursor() as cursor:
            cursor.execute("RESET lock_timeout")


def counter_consent_pending(*, record_id: int, reference: str, serial: str, jlis_consent_id: str) -> Consent:
    """A consent registered at the counter with the holder's new card (signed with `serial`),
    sent to J-LIS and not yet reflected."""
    return Consent.objects.create(
        record_id=record_id,
        reference=reference,
        items=["address", "name", "birth_date"],
        channel=Channel.COUNTER,
        terms_version=TermsVersion.objects.get(version="2025-03"),
        status=ConsentStatus.PENDING,
        cert_serial=serial,
        cert_issuer_key_id=ISSUER_KEY_ID,
        jlis_consent_id=jlis_consent_id,
        created_at=timezone.now(),
    )


class GraceRun:
    """What a test driving the applier and the grace model (tests/model/grace.py, `self.model`)
    over the same stored events does between its events: age them past the grace, apply both,
    read the model's expected statuses."""

    model: Any

    def backlog(self) -> None:
        """Every pending event was received a year ago: past any grace."""
        long_ago = timezone.now() - timedelta(days=365)
        pending = JlisEvent.objects.filter(status=EventStatus.PENDING)
        self.model.received_long_ago(list(pending.values_list("event_id", flat=True)), long_ago)
        pending.update(received_at=long_ago)

    def apply(self, *, batch_size: int = 1000, at: Any = None) -> None:
        from applier.batch import events_apply_pending

        at = at or timezone.now()
        events_apply_pending(batch_size=batch_size, at=at)
        self.model.apply(at)

    def expected(self) -> dict[str, tuple[str, str]]:
        """event id -> (status, reason) as the model has them."""
        names = {"applied": EventStatus.APPLIED, "skipped": EventStatus.SKIPPED, "pending": EventStatus.PENDING}
        return {e.id: (names[e.status], e.reason if e.status == "skipped" else "") for e in self.model.events.values()}
