"""Error tracking with Sentry (sentry-sdk), on only when SENTRY_DSN is set.

What leaves the process must never carry personal data (names, addresses, birthdates,
certificates) or anything shaped like a My Number. Nothing personal is collected on purpose
(`data_collection`, sentry-sdk's successor of `send_default_pii=False`: no user details,
cookies, headers, query strings, bodies, local variables or SQL parameters); and since an exception's
message may still quote a value, every string of the event is scrubbed before it is sent:
- request: only the method and the URL without its query string are kept;
- the user: only the id;
- in every other string: Japanese text (kanji, kana, full-width forms: names and addresses are
  written so), runs of four or more digits with or without separators (dates, My Numbers,
  serials, phone numbers), quoted values ('...', "...", 「...」), upper-case word pairs (a
  JPKI card's Roman-letter names are written so: SMITH JOHN), PEM blocks and base64 runs.
An error report keeps the exception's type, where it happened (file, function, line) and the
English skeleton of its message; that is enough to find the bug, and the logs (which never hold
personal data either) have the request id.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit, urlunsplit

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.transport import Transport

if TYPE_CHECKING:
    from sentry_sdk.types import Event, Hint

SCRUBBED = "[scrubbed]"
_CJK = "\u3000-\u303f\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
# Parts the SDK itself fills with what is installed and running.
_SAFE_SUBTREES = frozenset({"modules", "sdk", "runtime"})
_PATTERNS = [
    re.compile(r"-----BEGIN [A-Z ]+-----.*?-----END [A-Z ]+-----", re.DOTALL),
    re.compile(r"'[^'\n]*'|\"[^\"\n]*\"|「[^」\n]*」"),
    # Kanji, kana, CJK punctuation and full-width forms (full-width digits and letters too), with
    # any ASCII digits among them (昭和55年5月17日, ２丁目3番).
    re.compile(rf"[\d{_CJK}]*[{_CJK}][\d{_CJK}]*"),
    re.compile(r"[A-Za-z0-9+/]{24,}={0,2}"),  # base64 (a DER certificate, a signature)
    re.compile(r"\d(?:[\s\-./_,:・]?\d){3,}"),
    re.compile(r"\b[A-Z]{2,}(?:[ ,]+[A-Z]{2,})+\b"),
]
# Keys whose values are the code's own facts (where the error happened, which SDK sent it).
_SAFE_KEYS = frozenset(
    {"filename", "abs_path", "module", "function", "package", "platform", "type", "event_id", "level", "logger",
     "environment", "release", "timestamp", "start_timestamp", "trace_id", "span_id", "parent_span_id", "op",
     "version", "sdk", "lineno", "colno", "in_app", "transaction", "server_name", "handled", "mechanism"}
)  # fmt: skip


def scrub_text(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(SCRUBBED, text)
    return text


def _scrub(value: Any, key: str = "") -> Any:
    if key in _SAFE_SUBTREES:
        return value
    if isinstance(value, str):
        return value if key in _SAFE_KEYS else scrub_text(value)
    if isinstance(value, dict):
        return {k: _scrub(v, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v, key) for v in value]
    return value


def _url_without_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def scrub_event(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """before_send: what is sent of an error (or a transaction)."""
    request = event.get("request")
    if request:
        event["request"] = {"method": request.get("method"), "url": _url_without_query(request.get("url", ""))}
    if event.get("user"):
        event["user"] = {"id": event["user"]["id"]} if event["user"].get("id") else {}
    for exception in (event.get("exception") or {}).get("values", []):
        for frame in (exception.get("stacktrace") or {}).get("frames", []):
            frame.pop("vars", None)
    return _scrub(event)


def scrub_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    return _scrub(crumb)


def error_tracking_init(
    *, dsn: str, environment: str, release: str = "", transport: type[Transport] | None = None
) -> None:
    # sentry names the event with a TypedDict; scrub_event takes it as the plain dict it is.
    scrub = cast("Callable[[Event, Hint], Event | None]", scrub_event)
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        # Nothing personal is collected (the successor of send_default_pii=False, stricter).
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_headers": {"request": {"mode": "off"}},
            "http_bodies": [],
            "url_query_params": {"mode": "off"},
            "database_query_data": False,
            "queues": False,
            "stack_frame_variables": False,
        },
        max_request_body_size="never",
        before_send=scrub,
        before_send_transaction=scrub,
        before_breadcrumb=scrub_breadcrumb,
        traces_sample_rate=0.0,
        transport=transport,
    )
