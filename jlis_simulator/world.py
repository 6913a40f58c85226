"""What the simulator plays: J-LIS's consents and event feed, the municipal office that issues
and revokes certificates, and the holder acting through Mynaportal or JPKI Mobile.

Every action runs inside the caller's write transaction (`db`) and writes the events J-LIS
would publish for it.
"""

from __future__ import annotations

import base64
import json
import secrets
import sqlite3
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from consents.jpki.testcard import CardHolder, TestHierarchy

from .people import Person, SimError, int_field, items_check, person_from_certificate

JST = ZoneInfo("Asia/Tokyo")
CHANNELS = ("mynaportal", "jpki_mobile")


class World:
    def __init__(self, jpki_dir: Path) -> None:
        self.jpki_dir = jpki_dir
        self._hierarchy: TestHierarchy | None = None
        self._lock = threading.Lock()

    @property
    def hierarchy(self) -> TestHierarchy:
        with self._lock:
            if self._hierarchy is None:
                self._hierarchy = TestHierarchy.load_or_create(self.jpki_dir)
            return self._hierarchy

    # --- time -----------------------------------------------------------------------------------
    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC).replace(microsecond=0)

    def today(self) -> date:
        return self.now().astimezone(JST).date()

    @staticmethod
    def stamp(moment: datetime) -> str:
        return moment.astimezone(JST).isoformat(timespec="seconds")

    # --- the feed -------------------------------------------------------------------------------
    def emit(self, db: sqlite3.Connection, *, holder_id: int, kind: str, serial: str, data: dict[str, Any]) -> str:
        seq = db.execute("UPDATE holder SET seq = seq + 1 WHERE id = ? RETURNING seq", (holder_id,)).fetchone()[0]
        event_id = "ev_" + secrets.token_hex(10)
        db.execute(
            "INSERT INTO event(id, holder_id, holder_seq, kind, serial, occurred_at, data) VALUES (?,?,?,?,?,?,?)",
            (event_id, holder_id, seq, kind, serial, self.stamp(self.now()), json.dumps(data, ensure_ascii=False)),
        )
        return event_id

    # --- lookups --------------------------------------------------------------------------------
    @staticmethod
    def holder(db: sqlite3.Connection, holder_id: Any) -> sqlite3.Row:
        row = db.execute("SELECT * FROM holder WHERE id = ?", (int_field(holder_id, "holder"),)).fetchone()
        if row is None:
            raise SimError(404, "holder_not_found", f"no holder {holder_id}")
        return row

    @staticmethod
    def consent(db: sqlite3.Connection, consent_id: str) -> sqlite3.Row:
        row = db.execute("SELECT * FROM consent WHERE id = ?", (consent_id,)).fetchone()
        if row is None:
            raise SimError(404, "consent_not_found", "no such consent")
        return row

    def certificate_state(self, db: sqlite3.Connection, serial: str) -> str:
        """valid, revoked or expired; a certificate past its end turns expired here."""
        row = db.execute("SELECT status, not_after, holder_id FROM certificate WHERE serial = ?", (serial,)).fetchone()
        if row is None:
            return "unknown"
        if row["status"] == "valid" and datetime.fromisoformat(row["not_after"]) < self.now():
            db.execute("UPDATE certificate SET status = 'expired' WHERE serial = ?", (serial,))
            db.execute("UPDATE holder SET feed_stopped = 1 WHERE id = ?", (row["holder_id"],))
            return "expired"
        return row["status"]

    # --- consents through the protocol ---------------------------------------------------------
    def submit(
        self,
        db: sqlite3.Connection,
        *,
        reference: str,
        statement: bytes,
        signature: bytes,
        certificate_der: bytes,
        items: list[str],
    ) -> str:
        try:
            certificate = x509.load_der_x509_certificate(certificate_der)
        except ValueError:
            raise SimError(400, "invalid_request", "certificate is not DER X.509") from None
        serial = str(certificate.serial_number)
        known = db.execute("SELECT holder_id FROM certificate WHERE serial = ?", (serial,)).fetchone()
        holder_id = known["holder_id"] if known else self._holder_learn(db, certificate, certificate_der)
        consent_id = "jc_" + secrets.token_hex(10)
        db.execute(
            "INSERT INTO consent(id, holder_id, reference, serial, items, channel, status, problem, submitted_at)"
            " VALUES (?,?,?,?,?,'counter','pending',?,?)",
            (
                consent_id,
                holder_id,
                reference,
                serial,
                json.dumps(items),
                self._problem(certificate, statement, signature),
                self.now().isoformat(),
            ),
        )
        return consent_id

    def _holder_learn(self, db: sqlite3.Connection, certificate: x509.Certificate, der: bytes) -> int:
        person = person_from_certificate(certificate)
        serial = str(certificate.serial_number)
        holder_id = db.execute(
            "INSERT INTO holder(name, address, birth_date, sex, current_serial, created_at) VALUES (?,?,?,?,?,?)"
            " RETURNING id",
            (person.name, person.address, person.birth_date.isoformat(), person.sex, serial, self.now().isoformat()),
        ).fetchone()[0]
        db.execute(
            "INSERT INTO certificate(serial, holder_id, der, not_after, status, issued_at) VALUES (?,?,?,?,?,?)",
            (
                serial,
                holder_id,
                der,
                certificate.not_valid_after_utc.isoformat(),
                "valid",
                certificate.not_valid_before_utc.isoformat(),
            ),
        )
        return holder_id

    def _problem(self, certificate: x509.Certificate, statement: bytes, signature: bytes) -> str:
        """Why J-LIS will reject this consent when it reflects it ('' when it will not)."""
        try:
            certificate.verify_directly_issued_by(self.hierarchy.signing_ca.certificate)
        except (ValueError, TypeError, InvalidSignature):
            return "certificate_untrusted"
        public_key = certificate.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            return "certificate_untrusted"
        try:
            public_key.verify(signature, statement, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return "signature_invalid"
        return ""

    def revoke_ours(self, db: sqlite3.Connection, consent_id: str) -> None:
        consent = self.consent(db, consent_id)
        if consent["status"] == "rejected":
            raise SimError(409, "consent_not_revocable", "a rejected consent cannot be revoked")
        if consent["status"] != "revoked":
            db.execute("UPDATE consent SET status = 'revoked', revoked_channel = 'counter' WHERE id = ?", (consent_id,))

    def cancel_ours(self, db: sqlite3.Connection, consent_id: str) -> None:
        """The police withdraw a consent taken by mistake: J-LIS never reflects it. Too late once
        J-LIS has reflected it (it must be revoked) or rejected it."""
        consent = self.consent(db, consent_id)
        if consent["status"] == "cancelled":
            return
        if consent["status"] != "pending":
            if consent["consent_date"]:
                raise SimError(409, "consent_already_reflected", "the consent is reflected: revoke it instead")
            raise SimError(409, "consent_not_pending", f"the consent is {consent['status']}")
        db.execute("UPDATE consent SET status = 'cancelled' WHERE id = ?", (consent_id,))

    def reflect(self, db: sqlite3.Connection, *, consent_id: str = "", day: str = "today") -> list[str]:
        """J-LIS's batch: pending consents become active (consent date = that J-LIS day) or rejected."""
        if day not in {"today", "next"}:
            raise SimError(400, "invalid_request", "day must be today or next")
        rows = db.execute(
            "SELECT * FROM consent WHERE status = 'pending' AND (? = '' OR id = ?) ORDER BY rowid",
            (consent_id, consent_id),
        ).fetchall()
        done = []
        for consent in rows:
            holder = self.holder(db, consent["holder_id"])
            problem = consent["problem"]
            state = self.certificate_state(db, consent["serial"])
            if not problem and state in {"revoked", "expired"}:
                problem = f"certificate_{state}"
            if problem:
                db.execute(
                    "UPDATE consent SET status = 'rejected', rejected_reason = ? WHERE id = ?", (problem, consent["id"])
                )
                self.emit(
                    db,
                    holder_id=holder["id"],
                    kind="consent_rejected",
                    serial=holder["current_serial"],
                    data={"consent_id": consent["id"], "reason": problem},
                )
            else:
                submitted = datetime.fromisoformat(consent["submitted_at"]).astimezone(JST).date()
                consent_date = self.today() if day == "today" else submitted + timedelta(days=1)
                self._activate(db, holder["id"], consent["id"], consent_date)
                self.emit(
                    db,
                    holder_id=holder["id"],
                    kind="consent_reflected",
                    serial=holder["current_serial"],
                    data={"consent_id": consent["id"], "consent_date": consent_date.isoformat()},
                )
            done.append(consent["id"])
        return done

    def _activate(self, db: sqlite3.Connection, holder_id: int, consent_id: str, consent_date: date) -> None:
        # A new consent restarts the period (R6) and a new registration restarts the feed (R11).
        db.execute("UPDATE consent SET status = 'superseded' WHERE holder_id = ? AND status = 'active'", (holder_id,))
        db.execute(
            "UPDATE consent SET status = 'active', consent_date = ? WHERE id = ?",
            (consent_date.isoformat(), consent_id),
        )
        db.execute("UPDATE holder SET feed_stopped = 0 WHERE id = ?", (holder_id,))

    def reject(self, db: sqlite3.Connection, *, consent_id: str, reason: str) -> None:
        consent = self.consent(db, consent_id)
        if consent["status"] != "pending":
            raise SimError(409, "not_pending", "only a pending consent can be rejected")
        db.execute("UPDATE consent SET problem = ? WHERE id = ?", ((reason or "rejected")[:200], consent_id))
        self.reflect(db, consent_id=consent_id)

    # --- the holder, elsewhere ------------------------------------------------------------------
    def revoke_elsewhere(
        self, db: sqlite3.Connection, *, channel: str, holder_id: Any = None, consent_id: str = ""
    ) -> str:
        if channel not in CHANNELS:
            raise SimError(400, "invalid_request", "channel must be mynaportal or jpki_mobile")
        if not consent_id:
            row = db.execute(
                "SELECT id FROM consent WHERE holder_id = ? AND status IN ('active', 'pending')"
                " ORDER BY status = 'active' DESC, rowid DESC LIMIT 1",
                (int_field(holder_id, "holder"),),
            ).fetchone()
            if row is None:
                raise SimError(409, "no_consent", "the holder has no active or pending consent")
            consent_id = row["id"]
        consent = self.consent(db, consent_id)
        if consent["status"] not in {"active", "pending"}:
            raise SimError(409, "consent_not_revocable", f"the consent is {consent['status']}")
        db.execute("UPDATE consent SET status = 'revoked', revoked_channel = ? WHERE id = ?", (channel, consent_id))
        holder = self.holder(db, consent["holder_id"])
        self.emit(
            db,
            holder_id=holder["id"],
            kind="consent_revoked",
            serial=holder["current_serial"],
            data={"consent_id": consent_id, "channel": channel},
        )
        return consent_id

    def register(
        self,
        db: sqlite3.Connection,
        *,
        items: Any,
        holder_id: Any = None,
        person: Person | None = None,
        day: str = "today",
    ) -> dict[str, Any]:
        """A consent given through Mynaportal, signed with the holder's current certificate."""
        items = items_check(items)
        if person is not None:
            holder_id, _serial = self._holder_issue(db, person)
        holder = self.holder(db, holder_id)
        serial = holder["current_serial"]
        certificate = db.execute("SELECT der FROM certificate WHERE serial = ?", (serial,)).fetchone()
        if certificate["der"] is None or self.certificate_state(db, serial) != "valid":
            raise SimError(409, "certificate_not_valid", "the holder's current certificate is not valid: renew it")
        consent_id = "jc_" + secrets.token_hex(10)
        consent_date = self.today() + timedelta(days=1 if day == "next" else 0)
        db.execute(
            "INSERT INTO consent(id, holder_id, reference, serial, items, channel, status, submitted_at)"
            " VALUES (?,?,?,?,?,'mynaportal','pending',?)",
            (consent_id, holder["id"], "MP-" + consent_id[3:13], serial, json.dumps(items), self.now().isoformat()),
        )
        self._activate(db, holder["id"], consent_id, consent_date)
        previous = db.execute(
            "SELECT serial FROM certificate WHERE holder_id = ? AND serial != ? ORDER BY issued_at DESC LIMIT 10",
            (holder["id"], serial),
        ).fetchall()
        self.emit(
            db,
            holder_id=holder["id"],
            kind="consent_registered",
            serial=serial,
            data={
                "consent_id": consent_id,
                "items": items,
                "consent_date": consent_date.isoformat(),
                "certificate": base64.b64encode(certificate["der"]).decode(),
                "previous_serials": [row["serial"] for row in previous],
            },
        )
        return {"consent_id": consent_id, "holder": holder["id"], "serial": serial}

    # --- the municipal office: certificates -----------------------------------------------------
    def _holder_issue(self, db: sqlite3.Connection, person: Person) -> tuple[int, str]:
        card = self.hierarchy.issue_card(CardHolder(person.name, person.address, person.birth_date, person.sex))
        holder_id = db.execute(
            "INSERT INTO holder(name, address, birth_date, sex, current_serial, created_at) VALUES (?,?,?,?,?,?)"
            " RETURNING id",
            (
                person.name,
                person.address,
                person.birth_date.isoformat(),
                person.sex,
                card.serial,
                self.now().isoformat(),
            ),
        ).fetchone()[0]
        self._card_store(db, holder_id, card)
        return holder_id, card.serial

    def _card_store(self, db: sqlite3.Connection, holder_id: int, card: Any) -> None:
        key_pem = card.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        db.execute(
            "INSERT INTO certificate(serial, holder_id, der, key_pem, not_after, status, issued_at)"
            " VALUES (?,?,?,?,?,'valid',?)",
            (
                card.serial,
                holder_id,
                card.certificate_der,
                key_pem,
                card.certificate.not_valid_after_utc.isoformat(),
                self.now().isoformat(),
            ),
        )

    def reissue(
        self, db: sqlite3.Connection, *, holder_id: Any, name: str = "", address: str = "", reason: str = "reissued"
    ) -> dict[str, Any]:
        """A new signing certificate (a move, a new name, a new card). The old one is revoked
        unless it had expired; J-LIS tells us only in the first case (R10, R11)."""
        holder = self.holder(db, holder_id)
        if holder["synthetic"]:
            raise SimError(409, "synthetic_holder", "generated holders have no real certificates")
        old_serial = holder["current_serial"]
        old_state = self.certificate_state(db, old_serial)
        if old_state == "valid":
            db.execute(
                "UPDATE certificate SET status = 'revoked', revoked_reason = ? WHERE serial = ?", (reason, old_serial)
            )
        person = Person(
            name or holder["name"],
            address or holder["address"],
            date.fromisoformat(holder["birth_date"]),
            holder["sex"],
        )
        card = self.hierarchy.issue_card(CardHolder(person.name, person.address, person.birth_date, person.sex))
        self._card_store(db, holder["id"], card)
        db.execute(
            "UPDATE holder SET name = ?, address = ?, current_serial = ? WHERE id = ?",
            (person.name, person.address, card.serial, holder["id"]),
        )
        event_id = ""
        feed_stopped = db.execute("SELECT feed_stopped FROM holder WHERE id = ?", (holder["id"],)).fetchone()[0]
        active = db.execute(
            "SELECT items FROM consent WHERE holder_id = ? AND status = 'active'", (holder["id"],)
        ).fetchone()
        if old_state == "valid" and not feed_stopped and active is not None:
            data: dict[str, Any] = {
                "old_serial": old_serial,
                "new_serial": card.serial,
                "not_after": card.certificate.not_valid_after_utc.isoformat(),
            }
            current = {"name": person.name, "address": person.address, "birth_date": person.birth_date.isoformat()}
            data.update({item: current[item] for item in json.loads(active["items"])})  # only the consented items
            event_id = self.emit(db, holder_id=holder["id"], kind="latest_info", serial=old_serial, data=data)
        return {"holder": holder["id"], "old_serial": old_serial, "new_serial": card.serial, "event_id": event_id}

    def expire(self, db: sqlite3.Connection, *, holder_id: Any) -> dict[str, Any]:
        """The current certificate reaches the end of its validity: J-LIS stops sending (R11)."""
        holder = self.holder(db, holder_id)
        db.execute(
            "UPDATE certificate SET status = 'expired' WHERE serial = ? AND status = 'valid'",
            (holder["current_serial"],),
        )
        db.execute("UPDATE holder SET feed_stopped = 1 WHERE id = ?", (holder["id"],))
        return {"holder": holder["id"], "serial": holder["current_serial"]}

    def card(self, db: sqlite3.Connection, *, holder_id: Any) -> dict[str, Any]:
        holder = self.holder(db, holder_id)
        row = db.execute(
            "SELECT der, key_pem FROM certificate WHERE serial = ?", (holder["current_serial"],)
        ).fetchone()
        if row["key_pem"] is None:
            raise SimError(409, "no_key", "this certificate was not issued by the simulator")
        pem = x509.load_der_x509_certificate(row["der"]).public_bytes(serialization.Encoding.PEM).decode()
        return {
            "holder": holder["id"],
            "serial": holder["current_serial"],
            "certificate_pem": pem,
            "key_pem": row["key_pem"].decode(),
        }
