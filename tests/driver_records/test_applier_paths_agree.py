"""The batch path and the per-event path give the same result on the same random event streams."""

import random

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from applier.batch import events_apply_pending
from consents.models import ConsentStatus
from driver_records.models import DriverRecord, RecordChange
from jlis_gateway.models import JlisEvent
from tests.support.one_by_one import events_apply_one_by_one

from .world import holder, latest_info

ADDRESSES = ["東京都新宿区１", "東京都府中市２", "大阪府門真市３", "北海道札幌市４"]
NAMES = ["山田　太郎", "佐藤　花子", "髙橋　一郎"]
HOLDERS = [
    dict(items=("address",)),
    dict(items=("address", "name", "birth_date")),
    dict(items=("name",), holding_status="licence_both"),
    dict(items=("address",), status=ConsentStatus.REVOKED),
    dict(items=("address", "birth_date"), holding_status="history_card_only"),
]


class _Rollback(Exception):
    pass


def _snapshot() -> tuple:
    records = sorted(
        DriverRecord.objects.values_list(
            "number", "name", "address", "birth_date", "cert_serial", "jlis_seq", "version"
        )
    )
    history = sorted(
        RecordChange.objects.values_list("record__number", "field", "old_value", "new_value", "jlis_event_id")
    )
    events = sorted(JlisEvent.objects.values_list("event_id", "status", "reason", "payload"), key=lambda e: e[0])
    return records, history, events


def _world(seed: int, n_events: int) -> None:
    rng = random.Random(seed)
    serials: dict[int, list[str]] = {}
    for i, options in enumerate(HOLDERS):
        holder(serial=f"S{i}-0", number=f"3000000000{i:01d}0", name=f"利用者　{i}", **options)
        serials[i] = [f"S{i}-0"]
    seqs = dict.fromkeys(serials, 0)
    stream = []
    for k in range(n_events):
        i = rng.randrange(len(HOLDERS) + 1)
        if i == len(HOLDERS):  # a serial nobody has
            stream.append(dict(seq=1, old=f"U{k}", new=f"U{k}x", address=rng.choice(ADDRESSES)))
            continue
        seqs[i] += 1
        old, new = serials[i][-1], f"S{i}-{seqs[i]}"
        serials[i].append(new)
        items = {"address": rng.choice(ADDRESSES)}
        if rng.random() < 0.5:
            items["name"] = rng.choice(NAMES)
        if rng.random() < 0.3:
            items["birth_date"] = f"19{rng.randrange(40, 99)}-0{rng.randrange(1, 9)}-1{rng.randrange(0, 9)}"
        stream.append(dict(seq=seqs[i], old=old, new=new, **items))
    # J-LIS repeats some events and delivers some out of order.
    for _ in range(n_events // 4):
        stream.append(dict(rng.choice(stream)))
    for _ in range(n_events // 3):
        a, b = rng.randrange(len(stream)), rng.randrange(len(stream))
        stream[a], stream[b] = stream[b], stream[a]
    for event in stream:
        event_id = f"ev-{event['old']}-{event['new']}-{event['seq']}"
        if JlisEvent.objects.filter(event_id=event_id).exists():
            continue  # a duplicate delivery is stored once
        latest_info(event_id=event_id, **event)


def _rollback_block() -> transaction.Atomic:
    # Like the blocks TestCase wraps each test in: services' durable transactions may run inside.
    block = transaction.atomic()
    block._from_testcase = True
    return block


def _run(apply, seed: int, n_events: int, batch_size: int) -> tuple:
    try:
        with _rollback_block():
            _world(seed, n_events)
            if apply is events_apply_pending:
                apply(batch_size=batch_size)
            else:
                apply()
            snapshot = _snapshot()
            raise _Rollback
    except _Rollback:
        return snapshot


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), n_events=st.integers(1, 30), batch_size=st.sampled_from([1, 3, 7, 1000]))
def test_batch_and_per_event_paths_agree(seed, n_events, batch_size):
    batch = _run(events_apply_pending, seed, n_events, batch_size)
    single = _run(events_apply_one_by_one, seed, n_events, batch_size)
    assert batch == single
    assert batch[2], "the stream stored no event"
