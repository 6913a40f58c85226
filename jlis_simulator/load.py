"""Load: many holders moving at once, written straight into the feed (100,000 events in seconds).

Generated holders have consistent serial chains and per-holder sequences but no real
certificates (issuing 100,000 RSA keys would take hours); `holders` in the answer lets a
benchmark create the matching driver records (linked serial, data, consented items).
"""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import date, timedelta
from typing import Any

from .people import items_check
from .world import World

FAMILY = ["山田", "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "中村", "小林", "加藤", "吉田", "山本"]
GIVEN = ["太郎", "花子", "一郎", "美咲", "健太", "陽菜", "翔", "結衣", "大輔", "さくら"]
ADDRESSES = [
    "東京都千代田区霞が関二丁目１番１号",
    "東京都府中市多磨町３丁目１番地",
    "東京都新宿区西新宿二丁目８番１号",
    "大阪府大阪市中央区大手前三丁目１番１１号",
    "大阪府門真市一番町２３番１６号",
    "北海道札幌市中央区北二条西七丁目",
]
MAX_COUNT = 2_000_000


def generate(
    db: sqlite3.Connection, world: World, *, count: Any, holders: Any = None, items: Any = None, seed: Any = 0
) -> dict[str, Any]:
    count = int(count)
    holder_count = int(holders or max(1, count // 10))
    if not 1 <= count <= MAX_COUNT or not 1 <= holder_count <= count:
        raise ValueError(f"count must be 1..{MAX_COUNT} and holders 1..count")
    items = items_check(items or ["address", "name", "birth_date"])
    rng = random.Random(int(seed or 0))  # noqa: S311 (test data, not secrets)
    batch = int(
        db.execute(
            "SELECT COALESCE(MAX(CAST(value AS INTEGER)), 0) + 1 FROM setting WHERE name = 'generate_batch'"
        ).fetchone()[0]
    )
    db.execute("INSERT OR REPLACE INTO setting(name, value) VALUES ('generate_batch', ?)", (str(batch),))
    first_id = db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM holder").fetchone()[0]
    now = world.now()
    stamp, created = world.stamp(now), now.isoformat()
    not_after = (now + timedelta(days=5 * 365)).isoformat()
    today = world.today().isoformat()
    serial_no = 0

    def next_serial() -> str:
        nonlocal serial_no
        serial_no += 1
        return f"9{batch:05d}{serial_no:012d}"  # never collides with a 159-bit random serial

    people, certificates, consents, initial = [], [], [], []
    for i in range(holder_count):
        holder_id = first_id + i
        name = f"{FAMILY[rng.randrange(len(FAMILY))]}　{GIVEN[rng.randrange(len(GIVEN))]}"
        person: dict[str, Any] = {
            "name": name,
            "address": ADDRESSES[rng.randrange(len(ADDRESSES))],
            "birth_date": (date(1950, 1, 1) + timedelta(days=rng.randrange(20000))).isoformat(),
            "serial": next_serial(),
            "seq": 0,
        }
        people.append(person)
        certificates.append((person["serial"], holder_id, not_after, "valid", created))
        consent_id = f"jc_g{batch}_{i}"
        consents.append((consent_id, holder_id, f"G{batch}-{i}", person["serial"], json.dumps(items), created, today))
        initial.append(
            {
                "holder": holder_id,
                "serial": person["serial"],
                "name": name,
                "address": person["address"],
                "birth_date": person["birth_date"],
                "items": items,
                "consent_id": consent_id,
                "consent_date": today,
            }
        )
    events = []
    for n in range(count):
        index = rng.randrange(holder_count)
        person = people[index]
        if rng.random() < 0.8:
            person["address"] = ADDRESSES[(ADDRESSES.index(person["address"]) + 1 + rng.randrange(5)) % 6]
        else:
            person["name"] = f"{FAMILY[rng.randrange(len(FAMILY))]}　{person['name'].split('　')[1]}"
        old, new = person["serial"], next_serial()
        person["serial"], person["seq"] = new, person["seq"] + 1
        certificates.append((new, first_id + index, not_after, "valid", created))
        data = {"old_serial": old, "new_serial": new, "not_after": not_after}
        data.update({item: person[item] for item in items})
        events.append(
            (
                f"ev_g{batch}_{n}",
                first_id + index,
                person["seq"],
                "latest_info",
                old,
                stamp,
                json.dumps(data, ensure_ascii=False),
            )
        )
    db.executemany(
        "INSERT INTO holder(id, name, address, birth_date, sex, current_serial, seq, synthetic, created_at)"
        " VALUES (?,?,?,?,'1',?,?,1,?)",
        [
            (first_id + i, p["name"], p["address"], p["birth_date"], p["serial"], p["seq"], created)
            for i, p in enumerate(people)
        ],
    )
    db.executemany(
        "INSERT INTO certificate(serial, holder_id, not_after, status, issued_at) VALUES (?,?,?,?,?)", certificates
    )
    db.execute(
        "UPDATE certificate SET status = 'revoked', revoked_reason = 'moved' WHERE holder_id >= ?"
        " AND serial NOT IN (SELECT current_serial FROM holder WHERE id >= ?)",
        (first_id, first_id),
    )
    db.executemany(
        "INSERT INTO consent(id, holder_id, reference, serial, items, channel, status, submitted_at, consent_date)"
        " VALUES (?,?,?,?,?,'counter','active',?,?)",
        consents,
    )
    first = db.execute("SELECT COALESCE(MAX(position), 0) + 1 FROM event").fetchone()[0]
    db.executemany(
        "INSERT INTO event(id, holder_id, holder_seq, kind, serial, occurred_at, data) VALUES (?,?,?,?,?,?,?)", events
    )
    return {
        "batch": batch,
        "events": count,
        "first_position": first,
        "last_position": first + count - 1,
        "holders": initial,
    }
