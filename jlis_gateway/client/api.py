"""The J-LIS calls: paths, headers, timeouts, mutual TLS, retries and typed errors.

Callers get a typed result or a typed error, never a half-read body.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .events import EventPage, PageMalformed, page_parse
from .fields import Malformed, date_parse, identifier, items_parse

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_PAGE_SIZE = 1000
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
CONSENT_STATUSES = frozenset({"pending", "active", "rejected", "revoked", "cancelled"})


class JlisError(Exception):
    """Anything that went wrong talking to J-LIS. The message never carries personal data."""


class JlisUnavailable(JlisError):
    """Network failure, timeout, 429 or 5xx after the retries: try again later."""


class JlisProtocolError(JlisError):
    """J-LIS answered something this protocol does not allow: nothing of it was used."""


class JlisRefused(JlisError):
    """J-LIS refused the request (a 4xx other than 429): sending it again will not help."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status, self.code, self.message = status, code, message
        super().__init__(f"HTTP {status} {code}: {message}")


@dataclass(frozen=True)
class SubmitResult:
    consent_id: str
    status: str


@dataclass(frozen=True)
class ConsentState:
    consent_id: str
    reference: str
    status: str
    items: tuple[str, ...]
    consent_date: str | None


class JlisClient:
    """HTTPS+JSON client with timeouts, mutual TLS, and retries only where retrying is safe."""

    def __init__(
        self,
        *,
        base_url: str,
        timeout: float,
        retries: int = 3,
        backoff: float = 0.5,
        backoff_cap: float = 10.0,
        client_cert: str = "",
        client_key: str = "",
        ca_bundle: str = "",
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.backoff_cap = backoff_cap
        self.session = session or requests.Session()
        # Passed on every request: a Session attribute would lose to REQUESTS_CA_BUNDLE.
        self.cert: tuple[str, str] | str | None = (
            (client_cert, client_key) if client_cert and client_key else client_cert or None
        )
        self.verify: str | bool = ca_bundle or True

    @classmethod
    def from_settings(cls) -> JlisClient:
        if not settings.JLIS_BASE_URL:
            raise ImproperlyConfigured("JLIS_BASE_URL is not set")
        if settings.PRODUCTION and not settings.JLIS_BASE_URL.startswith("https://"):
            raise ImproperlyConfigured("JLIS_BASE_URL must be https:// in production")
        if settings.PRODUCTION and not (settings.JLIS_CLIENT_CERT and settings.JLIS_CLIENT_KEY):
            raise ImproperlyConfigured("JLIS_CLIENT_CERT and JLIS_CLIENT_KEY are required in production")
        return cls(
            base_url=settings.JLIS_BASE_URL,
            timeout=settings.JLIS_TIMEOUT_SECONDS,
            retries=settings.JLIS_RETRIES,
            backoff=settings.JLIS_BACKOFF_SECONDS,
            client_cert=settings.JLIS_CLIENT_CERT,
            client_key=settings.JLIS_CLIENT_KEY,
            ca_bundle=settings.JLIS_CA_BUNDLE,
        )

    # --- the calls --------------------------------------------------------------------------
    def submit_consent(
        self,
        *,
        idempotency_key: str,
        reference: str,
        statement: bytes,
        signature: bytes,
        certificate: bytes,
        items: list[str],
    ) -> SubmitResult:
        body = {
            "reference": reference,
            "statement": _b64(statement),
            "signature": _b64(signature),
            "certificate": _b64(certificate),
            "items": list(items),
        }
        answer = self._call("POST", "/v1/consents", body=body, idempotency_key=idempotency_key)
        return _parse(answer, _submit_result)

    def revoke_consent(self, *, idempotency_key: str, consent_id: str, reason: str = "") -> SubmitResult:
        path = f"/v1/consents/{quote(consent_id, safe='')}/revoke"
        answer = self._call("POST", path, body={"reason": reason[:200]}, idempotency_key=idempotency_key)
        result = _parse(answer, _submit_result)
        if result.status != "revoked" or result.consent_id != consent_id:
            raise JlisProtocolError("revoke answered another consent or status")
        return result

    def cancel_consent(self, *, idempotency_key: str, consent_id: str) -> SubmitResult:
        """Ask J-LIS never to reflect a consent it has not reflected yet. J-LIS refuses with 409
        `consent_already_reflected` once it has (JlisRefused: the consent must be revoked)."""
        path = f"/v1/consents/{quote(consent_id, safe='')}/cancel"
        answer = self._call("POST", path, body={}, idempotency_key=idempotency_key)
        result = _parse(answer, _submit_result)
        if result.status != "cancelled" or result.consent_id != consent_id:
            raise JlisProtocolError("cancel answered another consent or status")
        return result

    def consent_status(self, *, consent_id: str) -> ConsentState:
        answer = self._call("GET", f"/v1/consents/{quote(consent_id, safe='')}")
        state = _parse(answer, _consent_state)
        if state.consent_id != consent_id:
            raise JlisProtocolError("status answered another consent")
        return state

    def events_page(self, *, after: str, limit: int) -> EventPage:
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be 1..{MAX_PAGE_SIZE}")
        params = {"limit": str(limit)}
        if after:
            params["after"] = after
        answer = self._call("GET", "/v1/events", params=params)
        try:
            return page_parse(answer, after=after, limit=limit)
        except PageMalformed as exc:
            raise JlisProtocolError(f"malformed page: {exc}") from exc

    # --- transport ----------------------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """One call with retries; returns the decoded JSON body of a 2xx answer."""
        # A POST is only repeated when J-LIS can recognise the repeat by its key.
        safe_to_retry = method == "GET" or bool(idempotency_key)
        headers = {"Accept": "application/json"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        attempts = 1 + (self.retries if safe_to_retry else 0)
        failure: JlisError = JlisUnavailable("no attempt made")
        retry_after: float | None = None
        for attempt in range(attempts):
            if attempt:
                time.sleep(self._delay(attempt, retry_after))
            retry_after = None
            try:
                response = self.session.request(
                    method,
                    self.base_url + path,
                    params=params,
                    json=body,
                    headers=headers,
                    timeout=self.timeout,
                    stream=True,
                    cert=self.cert,
                    verify=self.verify,
                )
                raw = _read_capped(response)
            except requests.Timeout:
                failure = JlisUnavailable(f"{method} {path}: timed out after {self.timeout}s")
                continue
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                failure = JlisUnavailable(f"{method} {path}: connection failed ({type(exc).__name__})")
                continue
            except requests.RequestException as exc:
                raise JlisUnavailable(f"{method} {path}: {type(exc).__name__}") from exc
            if response.status_code in RETRY_STATUSES:
                code, _message = _error_body(raw, response.status_code)
                failure = JlisUnavailable(f"{method} {path}: HTTP {response.status_code} {code}")
                retry_after = _retry_after(response)
                continue
            if not 200 <= response.status_code < 300:
                code, message = _error_body(raw, response.status_code)
                raise JlisRefused(response.status_code, code, message)
            try:
                return json.loads(raw)
            except ValueError:
                # A cut-off body is usually the network's doing: a safe call is read again.
                failure = JlisProtocolError(f"{method} {path}: body is not JSON (truncated or malformed)")
                continue
        logger.warning("jlis call failed after %d attempt(s): %s", attempts, failure)
        raise failure

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.backoff_cap)
        # Full jitter: spread retries of many clients over the whole window.
        return random.uniform(0, min(self.backoff_cap, self.backoff * 2 ** (attempt - 1)))  # noqa: S311


# --- parsing answers ------------------------------------------------------------------------
def _parse(answer: Any, parser: Any) -> Any:
    try:
        return parser(answer)
    except Malformed as exc:
        raise JlisProtocolError(f"malformed answer: {exc}") from exc


def _submit_result(answer: Any) -> SubmitResult:
    if not isinstance(answer, dict):
        raise Malformed("body", "is not an object")
    status = answer.get("status")
    if status not in {"pending", "revoked", "cancelled"}:
        raise Malformed("status", "is not pending, revoked or cancelled")
    return SubmitResult(consent_id=identifier(answer.get("consent_id"), "consent_id"), status=status)


def _consent_state(answer: Any) -> ConsentState:
    if not isinstance(answer, dict):
        raise Malformed("body", "is not an object")
    status = answer.get("status")
    if status not in CONSENT_STATUSES:
        raise Malformed("status", "is not a consent status")
    reference = answer.get("reference")
    if not isinstance(reference, str) or not 1 <= len(reference) <= 64:
        raise Malformed("reference", "is not a string of 1-64 characters")
    consent_date = answer.get("consent_date")
    if consent_date is not None:
        consent_date = date_parse(consent_date, "consent_date").isoformat()
    return ConsentState(
        consent_id=identifier(answer.get("consent_id"), "consent_id"),
        reference=reference,
        status=status,
        items=tuple(items_parse(answer.get("items"), "items")),
        consent_date=consent_date,
    )


# --- helpers --------------------------------------------------------------------------------
def _b64(data: bytes) -> str:
    return base64.b64encode(bytes(data)).decode("ascii")


def _read_capped(response: requests.Response) -> bytes:
    chunks, size = [], 0
    try:
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise JlisProtocolError(f"body larger than {MAX_BODY_BYTES} bytes")
            chunks.append(chunk)
    finally:
        response.close()
    return b"".join(chunks)


def _error_body(raw: bytes, status: int) -> tuple[str, str]:
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        body = None
    if isinstance(body, dict) and isinstance(body.get("code"), str) and isinstance(body.get("message"), str):
        return body["code"][:64], body["message"][:200]
    return f"http_{status}", "error body is not {code, message}"


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None
