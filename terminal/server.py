"""The onestop server's terminal API (/api/v1/), as the counter terminal calls it.

The terminal authenticates with its token (`manage.py terminal_create`), asks in the screen's
language (the server's messages follow Accept-Language), and posts a signature with an
Idempotency-Key: repeating the same request with the same key replays the server's first
answer, so a retry after a lost answer never registers a second consent.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests

CONNECT_SECONDS = 5
READ_SECONDS = 30


class ServerUnreachable(Exception):
    """No answer from the server (refused, timed out, cut, or a 5xx): the request may or may not
    have been done there. Retry the same request with the same key."""


class ServerRefused(Exception):
    """The server answered with a refusal: `code` and `message` (in the asked language)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status, self.code, self.message = status, code, message
        super().__init__(f"{status} {code}")


@dataclass(frozen=True)
class Statement:
    id: int
    text: str
    data: bytes  # the exact bytes to sign
    items: list[str]
    created_at: datetime
    expires_at: datetime
    used: bool


@dataclass(frozen=True)
class Registered:
    reference: str
    status: str
    items: list[str]


class ServerClient:
    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.session.headers["Accept"] = "application/json"

    def _call(self, method: str, path: str, language: str, **kwargs: Any) -> Any:
        headers = {"Accept-Language": language, **kwargs.pop("headers", {})}
        try:
            answer = self.session.request(
                method, self.base_url + path, headers=headers, timeout=(CONNECT_SECONDS, READ_SECONDS), **kwargs
            )
        except requests.RequestException as exc:
            raise ServerUnreachable(type(exc).__name__) from None
        if answer.status_code >= 500:
            raise ServerUnreachable(f"HTTP {answer.status_code}")
        try:
            body = answer.json()
        except ValueError:
            raise ServerUnreachable(f"HTTP {answer.status_code}, not JSON") from None
        if answer.status_code >= 400:
            body = body if isinstance(body, dict) else {}
            raise ServerRefused(answer.status_code, str(body.get("code", "")), str(body.get("message", "")))
        return body

    def statements_open(self, language: str) -> list[Statement]:
        return [_statement(row) for row in self._call("GET", "/api/v1/statements/", language)]

    def statement(self, statement_id: int, language: str) -> Statement:
        return _statement(self._call("GET", f"/api/v1/statements/{statement_id}/", language))

    def register(
        self, statement_id: int, *, signature: bytes, certificate: bytes, key: str, language: str
    ) -> Registered:
        body = {
            "signature": base64.b64encode(signature).decode("ascii"),
            "certificate": base64.b64encode(certificate).decode("ascii"),
        }
        answer = self._call(
            "POST",
            f"/api/v1/statements/{statement_id}/signature/",
            language,
            json=body,
            headers={"Idempotency-Key": key},
        )
        return Registered(reference=answer["reference"], status=answer["status"], items=list(answer["items"]))


def _statement(row: dict[str, Any]) -> Statement:
    data = base64.b64decode(row["text_base64"])
    # The bytes to sign are the text the holder reads: refuse a statement where they differ.
    if data != row["text"].encode("utf-8") or hashlib.sha256(data).hexdigest() != row["sha256"]:
        raise ServerRefused(0, "statement_mismatch", "")
    return Statement(
        id=int(row["id"]),
        text=row["text"],
        data=data,
        items=list(row["items"]),
        created_at=datetime.fromisoformat(row["created_at"]),
        expires_at=datetime.fromisoformat(row["expires_at"]),
        used=bool(row["used"]),
    )
