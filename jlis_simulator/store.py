"""The simulator's own store: one SQLite file, one connection per thread, writers serialised."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS holder (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL, address TEXT NOT NULL, birth_date TEXT NOT NULL, sex TEXT NOT NULL,
  current_serial TEXT NOT NULL,
  seq INTEGER NOT NULL DEFAULT 0,            -- the last holder_seq given to one of its events
  feed_stopped INTEGER NOT NULL DEFAULT 0,   -- a certificate expired: nothing is sent (R11)
  synthetic INTEGER NOT NULL DEFAULT 0,      -- made by `generate`, without real certificates
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS certificate (
  serial TEXT PRIMARY KEY,
  holder_id INTEGER NOT NULL REFERENCES holder(id),
  der BLOB, key_pem BLOB,                    -- the key only for cards the simulator issued
  not_after TEXT NOT NULL,
  status TEXT NOT NULL,                      -- valid | revoked | expired
  issued_at TEXT NOT NULL, revoked_reason TEXT
);
CREATE INDEX IF NOT EXISTS certificate_holder ON certificate(holder_id);
CREATE TABLE IF NOT EXISTS consent (
  id TEXT PRIMARY KEY,
  holder_id INTEGER NOT NULL REFERENCES holder(id),
  reference TEXT NOT NULL,
  serial TEXT NOT NULL,                      -- the certificate it was signed with
  items TEXT NOT NULL,
  channel TEXT NOT NULL,                     -- counter | mynaportal
  status TEXT NOT NULL,                      -- pending | active | superseded | rejected | revoked | cancelled
  problem TEXT NOT NULL DEFAULT '',          -- why it will be rejected when reflected
  submitted_at TEXT NOT NULL,
  consent_date TEXT, rejected_reason TEXT, revoked_channel TEXT
);
CREATE INDEX IF NOT EXISTS consent_holder ON consent(holder_id, status);
CREATE TABLE IF NOT EXISTS idempotency (
  key TEXT PRIMARY KEY, request_hash TEXT NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS request_log (
  id INTEGER PRIMARY KEY, key TEXT, method TEXT NOT NULL, path TEXT NOT NULL, reference TEXT,
  status INTEGER, replay INTEGER NOT NULL DEFAULT 0, received_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS request_log_key ON request_log(key);
CREATE TABLE IF NOT EXISTS event (
  position INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  holder_id INTEGER, holder_seq INTEGER NOT NULL, kind TEXT NOT NULL, serial TEXT NOT NULL,
  occurred_at TEXT NOT NULL, data TEXT NOT NULL,
  corrupt TEXT                               -- a lasting malformation (fault malformed_event)
);
CREATE TABLE IF NOT EXISTS fault (
  id INTEGER PRIMARY KEY, target TEXT NOT NULL, kind TEXT NOT NULL,
  remaining INTEGER, probability REAL, delay REAL NOT NULL DEFAULT 0, fired INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS setting (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
TABLES = ("holder", "certificate", "consent", "idempotency", "request_log", "event", "fault", "setting")


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self.connection().executescript(SCHEMA)  # executescript runs outside any transaction

    def connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=True)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; IMMEDIATE takes the write lock at once, so writers queue."""
        db = self.connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def read(self) -> sqlite3.Connection:
        return self.connection()

    def reset(self) -> None:
        with self.write() as db:
            for table in TABLES:
                db.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed table names)
            db.execute("DELETE FROM sqlite_sequence")

    def setting(self, db: sqlite3.Connection, name: str, default: str = "") -> str:
        row = db.execute("SELECT value FROM setting WHERE name = ?", (name,)).fetchone()
        return row["value"] if row else default

    def setting_set(self, db: sqlite3.Connection, name: str, value: str) -> None:
        db.execute(
            "INSERT INTO setting(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = ?",
            (name, value, value),
        )
