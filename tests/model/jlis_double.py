"""J-LIS played by the model-based test: a real HTTP server speaking docs/jlis-protocol.md (v1) and
the world behind it (holders, their certificates and consents as J-LIS knows them).

The world makes events in J-LIS's order (each holder's own sequence) and keeps them until the test
delivers them: any subset, in any order, some twice. What J-LIS does follows the rules: it sends
latest information only under a consent it holds active and in force, only the consented items,
and nothing once the holder's certificate has expired until the holder registers again (R11).
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from cryptography import x509

from consents.jpki.testcard import CardHolder, TestCard, TestHierarchy

from .japan import consent_period, japan_date


@dataclass
class JConsent:
    id: str
    holder: JHolder
    items: list[str]
    status: str = "pending"  # pending, active, rejected, revoked
    consent_date: date | None = None
    order: int = 0

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # hypothesis prints a draw so
        printer.text(repr(self))

    def __repr__(self) -> str:  # what a failing example prints for a drawn consent
        return f"<J-LIS consent {self.id} {self.status} {self.consent_date}>"


@dataclass
class JHolder:
    name: str
    address: str
    birth_date: date
    card: TestCard
    seq: int = 0
    serials: list[str] = field(default_factory=list)  # newest last
    expired: bool = False  # R11: the certificate reached its end; nothing is sent until a registration
    consent_day: date | None = None  # the consent date J-LIS gave last: later events never go back
    number: int = 0  # its place among the test's holders

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # hypothesis prints a draw so
        printer.text(repr(self))

    def __repr__(self) -> str:  # what a failing example prints for a drawn holder
        return f"<J-LIS holder {self.number} {self.name} seq={self.seq}{' expired' if self.expired else ''}>"

    @property
    def serial(self) -> str:
        return self.card.serial

    @property
    def not_after(self) -> datetime:
        return self.card.certificate.not_valid_after_utc


class Jlis:
    """J-LIS's side: the world and the server. Call `close()` when done."""

    def __init__(self, hierarchy: TestHierarchy, card_key: Any, *, card_days: int) -> None:
        self.hierarchy, self.card_key, self.card_days = hierarchy, card_key, card_days
        self.holders: list[JHolder] = []
        self.consents: dict[str, JConsent] = {}
        self.made: list[dict[str, Any]] = []  # events made, not yet delivered
        self.feed: list[dict[str, Any]] = []  # what GET /v1/events serves, in order
        self.ids = itertools.count(1)
        self.lock = threading.Lock()
        self.now = datetime.now().astimezone()  # the world's clock; the test moves it
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def reset(self, now: datetime) -> None:
        with self.lock:
            self.holders, self.consents, self.made, self.feed, self.now = [], {}, [], [], now

    # --- the world --------------------------------------------------------------------------
    def card(self, name: str, address: str, birth_date: date) -> TestCard:
        # Issued now (the counter checks it on the real clock), ending card_days after the world's now.
        return self.hierarchy.issue_card(
            CardHolder(name=name, address=address, birth_date=birth_date),
            key=self.card_key,
            not_after=self.now + timedelta(days=self.card_days),
        )

    def holder_add(self, name: str, address: str, birth_date: date) -> JHolder:
        holder = JHolder(name, address, birth_date, self.card(name, address, birth_date))
        holder.serials.append(holder.serial)
        holder.number = len(self.holders)
        self.holders.append(holder)
        return holder

    def governing(self, holder: JHolder) -> JConsent | None:
        """The consent J-LIS provides under: the latest active one still in force."""
        active = [c for c in self.consents.values() if c.holder is holder and c.status == "active"]
        if not active:
            return None
        consent = max(active, key=lambda c: (c.consent_date, c.order))
        assert consent.consent_date is not None
        if consent_period(consent.consent_date)[1] < japan_date(self.now):
            return None
        return consent

    def _emit(self, holder: JHolder, kind: str, data: dict[str, Any], serial: str | None = None) -> dict[str, Any]:
        holder.seq += 1
        event = {
            "id": f"ev{next(self.ids)}",
            "kind": kind,
            "holder_seq": holder.seq,
            "occurred_at": self.now.isoformat(),
            "serial": serial or holder.serial,
            "data": data,
        }
        self.made.append(event)
        return event

    def dated(self, holder: JHolder, consent_date: date) -> None:
        """A consent date is J-LIS's day when it acts, and J-LIS numbers a holder's events in its
        own time (docs/jlis-protocol.md): a later event never carries an earlier consent date."""
        if holder.consent_day is not None and consent_date < holder.consent_day:
            raise ValueError(f"J-LIS gave {holder.consent_day} already: {consent_date} cannot follow")
        holder.consent_day = consent_date

    def reflect(self, consent: JConsent, consent_date: date) -> dict[str, Any]:
        self.dated(consent.holder, consent_date)
        consent.status, consent.consent_date = "active", consent_date
        consent.order = consent.holder.seq + 1
        consent.holder.expired = False  # R11: registering again restarts the feed
        return self._emit(
            consent.holder, "consent_reflected", {"consent_id": consent.id, "consent_date": consent_date.isoformat()}
        )

    def reject(self, consent: JConsent) -> dict[str, Any]:
        consent.status = "rejected"
        return self._emit(consent.holder, "consent_rejected", {"consent_id": consent.id, "reason": "signature_invalid"})

    def revoke(self, consent: JConsent, channel: str) -> dict[str, Any]:
        consent.status = "revoked"
        return self._emit(consent.holder, "consent_revoked", {"consent_id": consent.id, "channel": channel})

    def register(self, holder: JHolder, items: list[str], consent_date: date) -> dict[str, Any]:
        """Through Mynaportal, signed with the holder's current card."""
        self.dated(holder, consent_date)
        consent = JConsent(f"jm{next(self.ids)}", holder, list(items), "active", consent_date, holder.seq + 1)
        self.consents[consent.id] = consent
        holder.expired = False
        data = {
            "consent_id": consent.id,
            "items": list(items),
            "consent_date": consent_date.isoformat(),
            "certificate": base64.b64encode(holder.card.certificate_der).decode(),
            "previous_serials": list(reversed(holder.serials[:-1]))[:10],
        }
        return self._emit(holder, "consent_registered", data)

    def change(self, holder: JHolder, **values: Any) -> dict[str, Any] | None:
        """A move or a rename: the certificate is revoked and a new one issued (R10); J-LIS sends
        the latest information under an active consent, unless the old one had expired (R11)."""
        old = holder.serial
        for name, value in values.items():
            setattr(holder, name, value)
        holder.card = self.card(holder.name, holder.address, holder.birth_date)
        holder.serials.append(holder.serial)
        consent = self.governing(holder)
        if holder.expired or consent is None:
            return None
        data: dict[str, Any] = {
            "old_serial": old,
            "new_serial": holder.serial,
            "not_after": holder.not_after.isoformat(),
        }
        for item in consent.items:
            data[item] = {"birth_date": holder.birth_date.isoformat()}.get(item, getattr(holder, item))
        return self._emit(holder, "latest_info", data, serial=old)

    def renew(self, holder: JHolder) -> None:
        """R11: a new certificate after expiry, same data: J-LIS tells us nothing."""
        holder.card = self.card(holder.name, holder.address, holder.birth_date)
        holder.serials.append(holder.serial)

    def clock_moves(self, days: int) -> None:
        self.now += timedelta(days=days)
        for holder in self.holders:
            if holder.not_after < self.now:
                holder.expired = True

    def deliver(self, events: list[dict[str, Any]]) -> None:
        with self.lock:
            self.feed.extend(json.loads(json.dumps(e)) for e in events)

    # --- the protocol -----------------------------------------------------------------------
    def submitted(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        certificate = x509.load_der_x509_certificate(base64.b64decode(body["certificate"]))
        serial = str(certificate.serial_number)
        holder = next(h for h in self.holders if serial in h.serials)
        consent = JConsent(f"jc{next(self.ids)}", holder, list(body["items"]))
        self.consents[consent.id] = consent
        return 202, {"consent_id": consent.id, "status": "pending"}

    def revoked_here(self, consent_id: str) -> tuple[int, dict[str, Any]]:
        consent = self.consents.get(consent_id)
        if consent is None:
            return 404, {"code": "consent_not_found", "message": "unknown consent"}
        if consent.status == "rejected":
            return 409, {"code": "consent_not_revocable", "message": "rejected"}
        consent.status = "revoked"  # a revocation we make produces no event
        return 200, {"consent_id": consent_id, "status": "revoked"}

    def page(self, after: str, limit: int) -> dict[str, Any]:
        start = int(after or 0)
        events = self.feed[start : start + limit]
        end = start + len(events)
        return {"events": events, "next_cursor": str(end), "has_more": end < len(self.feed)}


def _handler(jlis: Jlis) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            url = urlparse(self.path)
            query = parse_qs(url.query)
            if url.path == "/v1/events":
                with jlis.lock:
                    page = jlis.page(query.get("after", [""])[0], int(query.get("limit", ["100"])[0]))
                return self._send(200, page)
            self._send(404, {"code": "not_found", "message": "no such path"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            parts = urlparse(self.path).path.strip("/").split("/")
            with jlis.lock:
                if parts == ["v1", "consents"]:
                    return self._send(*jlis.submitted(body))
                if len(parts) == 4 and parts[:2] == ["v1", "consents"] and parts[3] == "revoke":
                    return self._send(*jlis.revoked_here(parts[2]))
            self._send(404, {"code": "not_found", "message": "no such path"})

        def log_message(self, *args: Any) -> None:
            pass

    return Handler
