"""The simulator as a WSGI application: the J-LIS protocol (/v1/...), the control endpoints
that play the rest of the world (/control/...), and a small page (/)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from . import load, page
from .feed import Faults, page_read
from .people import Person, SimError, items_check
from .store import Store
from .world import World

KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_BODY = 8 * 1024 * 1024
Response = tuple[int, dict[str, str], bytes]


class Request:
    def __init__(self, environ: dict[str, Any]) -> None:
        self.method = environ["REQUEST_METHOD"]
        self.path = environ.get("PATH_INFO", "/")
        self.query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        self.headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        self.content_type = environ.get("CONTENT_TYPE", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > MAX_BODY:
            raise SimError(413, "too_large", "body over 8 MiB")
        self.body = environ["wsgi.input"].read(length) if length else b""
        self.host = environ.get("HTTP_HOST", "")

    @property
    def is_form(self) -> bool:
        return self.content_type.startswith("application/x-www-form-urlencoded")

    def data(self) -> dict[str, Any]:
        """The body as a dict: JSON, or a form (repeated fields become lists)."""
        if self.is_form:
            form = parse_qs(self.body.decode(), keep_blank_values=True)
            return {k: (v if len(v) > 1 or k == "items" else v[0]) for k, v in form.items()}
        if not self.body:
            return {}
        try:
            value = json.loads(self.body)
        except ValueError:
            raise SimError(400, "invalid_request", "body is not JSON") from None
        if not isinstance(value, dict):
            raise SimError(400, "invalid_request", "body is not a JSON object")
        return value


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return (
        status,
        {"Content-Type": "application/json", **(headers or {})},
        json.dumps(body, ensure_ascii=False).encode(),
    )


def _error(error: SimError) -> Response:
    return _json(error.status, {"code": error.code, "message": error.message})


class Simulator:
    def __init__(self, *, db_path: Path, jpki_dir: Path) -> None:
        self.store = Store(db_path)
        self.world = World(jpki_dir)
        self.faults = Faults()
        self.routes: list[tuple[str, re.Pattern[str], Callable[..., Response]]] = [
            ("GET", re.compile(r"/"), self.home),
            ("GET", re.compile(r"/healthz"), lambda request: _json(200, {"ok": True})),
            ("POST", re.compile(r"/v1/consents"), self.consent_submit),
            ("POST", re.compile(r"/v1/consents/(?P<consent_id>[^/]+)/revoke"), self.consent_revoke),
            ("POST", re.compile(r"/v1/consents/(?P<consent_id>[^/]+)/cancel"), self.consent_cancel),
            ("GET", re.compile(r"/v1/consents/(?P<consent_id>[^/]+)"), self.consent_status),
            ("GET", re.compile(r"/v1/events"), self.events),
            ("GET", re.compile(r"/control/state"), self.state),
            ("GET", re.compile(r"/control/requests"), self.requests),
            ("GET", re.compile(r"/control/events"), self.event_ids),
            ("GET", re.compile(r"/control/holders/(?P<holder_id>[0-9]+)/card"), self.card),
            ("POST", re.compile(r"/control/(?P<action>[a-z_]+)"), self.control),
        ]

    # --- WSGI -------------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            request = Request(environ)
            status, headers, body = self.dispatch(request)
        except SimError as error:
            status, headers, body = _error(error)
        reason = {200: "OK", 202: "Accepted", 303: "See Other"}.get(status, "Status")
        start_response(f"{status} {reason}", [*headers.items(), ("Content-Length", str(len(body)))])
        return [body]

    def dispatch(self, request: Request) -> Response:
        for method, pattern, handler in self.routes:
            match = pattern.fullmatch(request.path)
            if match and method == request.method:
                return handler(request, **match.groupdict())
        raise SimError(404, "not_found", f"no route {request.method} {request.path}")

    # --- the protocol ---------------------------------------------------------------------------
    def _with_faults(self, target: str, request: Request, act: Callable[[], Response]) -> Response:
        """Every request is counted as received (per idempotency key), whatever then happens."""
        with self.store.write() as db:
            fired = self.faults.draw(db, target)
            log_id = db.execute(
                "INSERT INTO request_log(key, method, path, reference, received_at) VALUES (?,?,?,?,?) RETURNING id",
                (
                    request.headers.get("idempotency-key", ""),
                    request.method,
                    request.path,
                    _reference(request),
                    self.world.now().isoformat(),
                ),
            ).fetchone()[0]
        if "delay" in fired:
            time.sleep(fired["delay"].delay)
        try:
            if "error_5xx" in fired:
                status, headers, body = _json(503, {"code": "unavailable", "message": "injected fault"})
            else:
                status, headers, body = act()
        except SimError as error:
            status, headers, body = _error(error)
        with self.store.write() as db:
            db.execute(
                "UPDATE request_log SET status = ?, replay = ? WHERE id = ?",
                (status, int(headers.get("Idempotent-Replay") == "true"), log_id),
            )
        return status, headers, self.faults.spoil(body, fired) if status < 300 else body

    def _idempotent(self, request: Request, act: Callable[[Any, dict[str, Any]], Response]) -> Response:
        """Acts at most once per Idempotency-Key; a repeat replays the first answer."""
        key = request.headers.get("idempotency-key", "")
        if not KEY.fullmatch(key):
            raise SimError(400, "invalid_request", "Idempotency-Key header of 1-64 [A-Za-z0-9_-] is required")
        body = request.data()
        digest = hashlib.sha256(request.path.encode() + b"\0" + json.dumps(body, sort_keys=True).encode()).hexdigest()
        with self.store.write() as db:
            seen = db.execute("SELECT * FROM idempotency WHERE key = ?", (key,)).fetchone()
            if seen is not None:
                if seen["request_hash"] != digest:
                    raise SimError(409, "idempotency_key_reused", "this key was used for another request")
                replay = {"Content-Type": "application/json", "Idempotent-Replay": "true"}
                return seen["status"], replay, seen["body"].encode()
            status, headers, answer = act(db, body)
            db.execute(
                "INSERT INTO idempotency(key, request_hash, status, body, created_at) VALUES (?,?,?,?,?)",
                (key, digest, status, answer.decode(), self.world.now().isoformat()),
            )
            return status, headers, answer

    def consent_submit(self, request: Request) -> Response:
        def act(db: Any, body: dict[str, Any]) -> Response:
            reference = body.get("reference")
            if not isinstance(reference, str) or not 1 <= len(reference) <= 64:
                raise SimError(400, "invalid_request", "reference must be 1-64 characters")
            try:
                decoded = {
                    name: base64.b64decode(body.get(name) or "", validate=True)
                    for name in ("statement", "signature", "certificate")
                }
            except (binascii.Error, ValueError, TypeError):
                raise SimError(400, "invalid_request", "statement, signature and certificate are base64") from None
            if not all(decoded.values()):
                raise SimError(400, "invalid_request", "statement, signature and certificate are required")
            if not isinstance(body.get("items"), list):
                raise SimError(400, "invalid_items", "items must be a list")
            consent_id = self.world.submit(
                db,
                reference=reference,
                statement=decoded["statement"],
                signature=decoded["signature"],
                certificate_der=decoded["certificate"],
                items=items_check(body["items"]),
            )
            if self.store.setting(db, "auto_reflect") == "now":
                self.world.reflect(db, consent_id=consent_id)
            return _json(202, {"consent_id": consent_id, "status": "pending"})

        return self._with_faults("submit", request, lambda: self._idempotent(request, act))

    def consent_revoke(self, request: Request, consent_id: str) -> Response:
        def act(db: Any, body: dict[str, Any]) -> Response:
            self.world.revoke_ours(db, consent_id)
            return _json(200, {"consent_id": consent_id, "status": "revoked"})

        return self._with_faults("revoke", request, lambda: self._idempotent(request, act))

    def consent_cancel(self, request: Request, consent_id: str) -> Response:
        def act(db: Any, body: dict[str, Any]) -> Response:
            self.world.cancel_ours(db, consent_id)
            return _json(200, {"consent_id": consent_id, "status": "cancelled"})

        return self._with_faults("cancel", request, lambda: self._idempotent(request, act))

    def consent_status(self, request: Request, consent_id: str) -> Response:
        def act() -> Response:
            consent = self.world.consent(self.store.read(), consent_id)
            status = "active" if consent["status"] == "superseded" else consent["status"]
            return _json(
                200,
                {
                    "consent_id": consent["id"],
                    "reference": consent["reference"],
                    "status": status,
                    "items": json.loads(consent["items"]),
                    "consent_date": consent["consent_date"],
                },
            )

        return self._with_faults("status", request, act)

    def events(self, request: Request) -> Response:
        with self.store.write() as db:
            fired = self.faults.draw(db, "events")
        if "delay" in fired:
            time.sleep(fired["delay"].delay)
        if "error_5xx" in fired:
            return _json(503, {"code": "unavailable", "message": "injected fault"})
        try:
            limit = int(request.query.get("limit", "100"))
        except ValueError:
            raise SimError(400, "invalid_request", "limit must be a number") from None
        with self.store.write() as db:  # a malformed_event fault writes its lasting damage
            body = page_read(db, self.faults, fired, after=request.query.get("after", ""), limit=limit)
        return (
            200,
            {"Content-Type": "application/json"},
            self.faults.spoil(json.dumps(body, ensure_ascii=False).encode(), fired),
        )

    # --- control ----------------------------------------------------------------------------------
    def control(self, request: Request, action: str) -> Response:
        origin = request.headers.get("origin")
        if origin and origin.split("://", 1)[-1] != request.host:
            raise SimError(403, "cross_origin", "control requests come from the simulator's own page")
        data = request.data()
        handler = getattr(self, f"do_{action}", None)
        if handler is None:
            raise SimError(404, "not_found", f"no control action {action}")
        try:
            with self.store.write() as db:
                result = handler(db, data)
        except SimError as error:
            if request.is_form:
                return _redirect(f"{action}: {error.message}")
            raise
        if request.is_form:
            return _redirect(f"{action}: done")
        return _json(200, {"ok": True, **result})

    def do_reset(self, db: Any, data: dict[str, Any]) -> dict[str, Any]:
        for table in ("holder", "certificate", "consent", "idempotency", "request_log", "event", "fault", "setting"):
            db.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed names)
        db.execute("DELETE FROM sqlite_sequence")
        self.faults.seed(int(data.get("seed") or 0))
        return {}

    def do_settings(self, db: Any, data: dict[str, Any]) -> dict[str, Any]:
        if "auto_reflect" in data:
            if data["auto_reflect"] not in {"off", "now"}:
                raise SimError(400, "invalid_request", "auto_reflect is off or now")
            self.store.setting_set(db, "auto_reflect", data["auto_reflect"])
        if data.get("seed") not in (None, ""):
            self.faults.seed(int(data["seed"]))
        return {"auto_reflect": self.store.setting(db, "auto_reflect", "off")}

    def do_faults(self, db: Any, data: dict[str, Any]) -> dict[str, Any]:
        fault_id = self.faults.add(
            db,
            target=data.get("target", "events"),
            kind=data.get("kind", ""),
            count=data.get("count"),
            probability=data.get("probability"),
            delay=data.get("delay"),
        )
        return {"fault": fault_id}

    def do_faults_clear(self, db: Any, data: dict[str, Any]) -> dict[str, Any]:
        db.execute("DELETE FROM fault")
        return {}

    def do_repair(self, db: Any, data: dict[str, Any]) -> dict[str, Any]:
        """J-LIS corrects an event it served malformed (after the police's operator asked)."""
        repaired = db.execute(
            "UPDATE event SET corrupt = NULL WHERE id = ? AND corrupt IS NOT NULL", (data.get("event_id"),)
        )
        if repaired.rowcount != 1:
            raise SimError(404, "not_found", "no malformed event with that id")
        return {}

    def do_reflect(self, db: Any, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "consents": self.world.reflect(db, consent_id=data.get("consent_id") or "", day=data.get("day") or "today")
        }

    def do_reject(self, db: Any, data: dict[str, Any]) -> dict[str, Any]:
        self.world.reject(db, consent_id=data.get("consent_id", ""), reason=data.get("reason", ""))
        return {}

    def do_move(self, db: Any, data: dict[str, Any]) -> dict[str, Any]:
        if not data.get("address"):
            raise SimError(400, "invalid_request", "address is required")
        return self.world.reissue(db, holder_id=data.get("holder"), address=data["address"], reason="address change")

    def do_rename(self, db: Any, data: dict[str, Any]) -> dict[str, Any]:
        if not data.get("name"):
            raise SimError(400, "invalid_request", "name is required")
        return self.world.reissue(db, holder_id=data.get("holder"), name=data["name"], reason="name change")

    def do_renew(self, db: Any, data: dict[str, Any]) -> dict[str, Any]:
        return self.world.reissue(db, holder_id=data.get("holder"), reason="reissued")

    def do_expire(self, db: Any, data: dict[str, Any]) -> dict[str, Any]:
        return self.world.expire(db, holder_id=data.get("holder"))

    def do_revoke(self, db: Any, data: dict[str, Any]) -> dict[str, Any]:
        consent_id = self.world.revoke_elsewhere(
            db, channel=data.get("channel", ""), holder_id=data.get("holder"), consent_id=data.get("consent_id") or ""
        )
        return {"consent_id": consent_id}

    def do_register(self, db: Any, data: dict[str, Any]) -> dict[str, Any]:
        person = None
        if not data.get("holder"):
            try:
                person = Person(data["name"], data["address"], date.fromisoformat(data["birth_date"]))
            except (KeyError, ValueError):
                raise SimError(400, "invalid_request", "give holder, or name, address and birth_date") from None
        return self.world.register(
            db, items=data.get("items"), holder_id=data.get("holder"), person=person, day=data.get("day") or "today"
        )

    def do_generate(self, db: Any, data: dict[str, Any]) -> dict[str, Any]:
        try:
            return load.generate(
                db,
                self.world,
                count=data.get("count"),
                holders=data.get("holders"),
                items=data.get("items"),
                seed=data.get("seed"),
            )
        except (TypeError, ValueError) as exc:
            raise SimError(400, "invalid_request", str(exc)) from None

    # --- reading the world ----------------------------------------------------------------------
    def state(self, request: Request) -> Response:
        return _json(200, page.state(self.store))

    def requests(self, request: Request) -> Response:
        rows = (
            self.store.read()
            .execute(
                "SELECT key, method, path, MAX(reference) AS reference, COUNT(*) AS received, SUM(replay) AS replays"
                " FROM request_log GROUP BY key, method, path ORDER BY MIN(id)"
            )
            .fetchall()
        )
        return _json(200, {"requests": [dict(row) for row in rows]})

    def event_ids(self, request: Request) -> Response:
        rows = self.store.read().execute("SELECT id, corrupt FROM event ORDER BY position").fetchall()
        return _json(
            200, {"ids": [row["id"] for row in rows], "corrupt": [row["id"] for row in rows if row["corrupt"]]}
        )

    def card(self, request: Request, holder_id: str) -> Response:
        with self.store.write() as db:
            return _json(200, self.world.card(db, holder_id=holder_id))

    def home(self, request: Request) -> Response:
        return 200, {"Content-Type": "text/html; charset=utf-8"}, page.render(self.store, request.query.get("msg", ""))


def _reference(request: Request) -> str:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return ""
    return str(body.get("reference", ""))[:64] if isinstance(body, dict) else ""


def _redirect(message: str) -> Response:
    return 303, {"Location": "/?" + urlencode({"msg": message}), "Content-Type": "text/plain"}, b""
