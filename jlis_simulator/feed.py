"""The event feed as served, and the faults the simulator can inject into any answer."""

from __future__ import annotations

import json
import random
import sqlite3
import threading
from dataclasses import dataclass
from typing import Any

from .people import SimError

TARGETS = ("events", "submit", "revoke", "cancel", "status")
KINDS = ("delay", "error_5xx", "truncated", "malformed_body", "malformed_event", "duplicate", "out_of_order")
FEED_ONLY = frozenset({"malformed_event", "duplicate", "out_of_order"})
MAX_LIMIT = 1000


@dataclass(frozen=True)
class Fault:
    kind: str
    delay: float


class Faults:
    """Faults are rows: fire `count` times, or each time with `probability`."""

    def __init__(self) -> None:
        self.rng = random.Random(0)  # noqa: S311 (faults, not secrets)
        self.lock = threading.Lock()

    def seed(self, value: int) -> None:
        with self.lock:
            self.rng.seed(value)

    def random(self) -> float:
        with self.lock:
            return self.rng.random()

    def choice(self, options: list[Any]) -> Any:
        with self.lock:
            return self.rng.choice(options)

    def add(
        self,
        db: sqlite3.Connection,
        *,
        target: str,
        kind: str,
        count: Any = None,
        probability: Any = None,
        delay: Any = 0,
    ) -> int:
        if target not in TARGETS or kind not in KINDS or (kind in FEED_ONLY and target != "events"):
            raise SimError(
                400, "invalid_request", f"fault target in {TARGETS}, kind in {KINDS} (feed-only: {sorted(FEED_ONLY)})"
            )
        try:
            count = int(count) if count not in (None, "") else None
            probability = float(probability) if probability not in (None, "") else None
            delay = float(delay or 0)
        except ValueError:
            raise SimError(400, "invalid_request", "count, probability and delay are numbers") from None
        if (count is None) == (probability is None) or (probability is not None and not 0 < probability <= 1):
            raise SimError(400, "invalid_request", "give either count or a probability in (0, 1]")
        if kind == "delay" and delay <= 0:
            raise SimError(400, "invalid_request", "a delay fault needs delay > 0 seconds")
        return db.execute(
            "INSERT INTO fault(target, kind, remaining, probability, delay) VALUES (?,?,?,?,?) RETURNING id",
            (target, kind, count, probability, delay),
        ).fetchone()[0]

    def draw(self, db: sqlite3.Connection, target: str) -> dict[str, Fault]:
        """The faults that fire for this request (at most one of each kind)."""
        fired: dict[str, Fault] = {}
        for row in db.execute("SELECT * FROM fault WHERE target = ? ORDER BY id", (target,)).fetchall():
            if row["kind"] in fired:
                continue
            if row["remaining"] is not None:
                if row["remaining"] <= 0:
                    continue
                db.execute("UPDATE fault SET remaining = remaining - 1 WHERE id = ?", (row["id"],))
            elif self.random() >= row["probability"]:
                continue
            db.execute("UPDATE fault SET fired = fired + 1 WHERE id = ?", (row["id"],))
            fired[row["kind"]] = Fault(row["kind"], row["delay"])
        return fired

    def spoil(self, body: bytes, fired: dict[str, Fault]) -> bytes:
        """Truncated or malformed answers, applied after J-LIS has acted."""
        if "truncated" in fired:
            return body[: max(1, len(body) // 2)]
        if "malformed_body" in fired:
            return self.choice(
                [
                    b"[]",
                    b'{"events": {}, "next_cursor": "1", "has_more": false}',
                    b'{"consent": null}',
                    b'{"has_more": "yes"}',
                    b"<html>proxy error</html>",
                ]
            )
        return body


# Lasting malformations of one event (the fault malformed_event); each keeps the event's id.
CORRUPTIONS = ("holder_seq_text", "serial_missing", "occurred_at_naive", "kind_unknown", "data_broken")


def corrupt(event: dict[str, Any], how: str) -> dict[str, Any]:
    event = dict(event)
    if how == "holder_seq_text":
        event["holder_seq"] = f"#{event['holder_seq']}"
    elif how == "serial_missing":
        del event["serial"]
    elif how == "occurred_at_naive":
        event["occurred_at"] = event["occurred_at"][:19]
    elif how == "kind_unknown":
        event["kind"] = "address_changed"
    elif how == "data_broken":
        event["data"] = {key: value for key, value in event["data"].items() if key not in {"consent_id", "new_serial"}}
    return event


def page_read(
    db: sqlite3.Connection, faults: Faults, fired: dict[str, Fault], *, after: str, limit: int
) -> dict[str, Any]:
    if after and not after.isdigit():
        raise SimError(400, "invalid_cursor", "after is not a cursor this feed gave")
    if not 1 <= limit <= MAX_LIMIT:
        raise SimError(400, "invalid_request", f"limit must be 1..{MAX_LIMIT}")
    start = int(after or 0)
    rows = db.execute("SELECT * FROM event WHERE position > ? ORDER BY position LIMIT ?", (start, limit)).fetchall()
    # Only an event never served before can turn out malformed: J-LIS does not rewrite history.
    served = int(
        db.execute(
            "SELECT COALESCE(MAX(CAST(value AS INTEGER)), 0) FROM setting WHERE name = 'served_upto'"
        ).fetchone()[0]
    )
    fresh = [row for row in rows if row["position"] > served]
    if "malformed_event" in fired and fresh:
        target = fresh[int(faults.random() * len(fresh))]
        how = faults.choice(list(CORRUPTIONS))
        db.execute("UPDATE event SET corrupt = ? WHERE position = ?", (how, target["position"]))
        rows = db.execute("SELECT * FROM event WHERE position > ? ORDER BY position LIMIT ?", (start, limit)).fetchall()
    if rows and rows[-1]["position"] > served:
        db.execute("INSERT OR REPLACE INTO setting(name, value) VALUES ('served_upto', ?)", (rows[-1]["position"],))
    events = [_event_json(row) for row in rows]
    positions = [row["position"] for row in rows]
    last = positions[-1] if positions else start
    has_more = db.execute("SELECT 1 FROM event WHERE position > ? LIMIT 1", (last,)).fetchone() is not None
    next_cursor = str(last) if positions else after
    if "duplicate" in fired and len(events) >= 2:
        # Rewind into the page (its second half comes again) and repeat a few events in it.
        next_cursor, has_more = str(positions[len(positions) // 2 - 1]), True
        for _ in range(min(len(events) // 4 + 1, limit - len(events))):
            copy = faults.choice(events)
            events.insert(int(faults.random() * (len(events) + 1)), copy)
    if "out_of_order" in fired:
        with faults.lock:
            faults.rng.shuffle(events)
    return {"events": events, "next_cursor": next_cursor, "has_more": has_more}


def _event_json(row: sqlite3.Row) -> dict[str, Any]:
    event = {
        "id": row["id"],
        "kind": row["kind"],
        "holder_seq": row["holder_seq"],
        "occurred_at": row["occurred_at"],
        "serial": row["serial"],
        "data": json.loads(row["data"]),
    }
    return corrupt(event, row["corrupt"]) if row["corrupt"] else event
