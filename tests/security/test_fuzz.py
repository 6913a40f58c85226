"""Malformed, huge and odd-unicode requests to every endpoint: each gets an answer that says what
is wrong (a form error, a 4xx page, `{code, message}` on the API), never a server error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from onestop.permission_matrix import ADMIN_MODELS, Outcome, Principal, Zone, outcome, rule_for

from .urlwalk import UrlEntry, url_entries, url_for

# The form fields the project's forms read, plus the admin's.
FIELDS = [
    *("q", "items", "reason", "confirmed", "variant", "holding_status", "version", "token", "username"),
    *("password", "next", "language", "idempotency_key", "old_password", "new_password1", "new_password2"),
    *("action", "_selected_action", "index", "select_across", "record_id", "signature", "certificate"),
]
ODD = [
    "\x00",
    "a\x00b",
    "\u202eevil\u202c",  # right-to-left override
    "\u200b\u200d\ufeff",  # zero-width characters
    "𠮷野家🚗👨‍👩‍👧",  # outside the BMP, a ZWJ sequence
    "e\u0301" * 200,  # combining marks
    "１２３４－５６７８－９０１８",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "9" * 40,  # larger than any integer column
    "-1",
    "1e309",
    "NaN",
    "ｱｲｳ\r\n\t",
    "x" * 20_000,
]
NESTED_JSON = "[" * 20_000 + "]" * 20_000  # deeper than Python's JSON parser recurses


@dataclass
class Body:
    label: str
    data: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


def _form(pairs: list[tuple[str, str]]) -> bytes:
    from urllib.parse import urlencode

    return urlencode(pairs).encode()


def bodies() -> Iterator[Body]:
    form = "application/x-www-form-urlencoded"
    yield Body("empty form", b"", form)
    for value in ODD:
        yield Body(f"every field = {value[:12]!r}", _form([(name, value) for name in FIELDS]), form)
    yield Body("repeated fields", _form([("items", "address")] * 900), form)
    yield Body("too many fields", _form([(f"f{i}", "1") for i in range(1200)]), form)
    yield Body("invalid UTF-8", b"q=%FF%FE&reason=%ED%A0%80&items=\xff\xfe", form)
    yield Body("a long field name", _form([("x" * 50_000, "1")]), form)
    yield Body("multipart, broken boundary", b"--nope\r\ngarbage", "multipart/form-data; boundary=abc")
    yield Body("multipart, no boundary", b"--abc\r\n", "multipart/form-data")
    multipart = (
        b'--abc\r\nContent-Disposition: form-data; name="reason"\r\n\r\n\xe7\x90\x86\xe7\x94\xb1\r\n'
        b'--abc\r\nContent-Disposition: form-data; name="file"; filename="../../etc/passwd"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + b"\x00" * 50_000 + b"\r\n--abc--\r\n"
    )
    yield Body("multipart with a file", multipart, "multipart/form-data; boundary=abc")
    for text in ["{", "[]", "null", "1e999999", '"x"', NESTED_JSON, '{"a":' * 5000 + "1" + "}" * 5000]:
        yield Body(f"JSON {text[:10]!r}", text.encode(), "application/json")
    for doc in [
        {"record_id": "abc", "items": "address"},
        {"record_id": 10**30, "items": [None, {}, []]},
        {"record_id": -1, "items": ["\u0000", "\ud800", "x" * 1000]},
        {"signature": "%%%", "certificate": "A" * 60_000},
        {"signature": "\ud800", "certificate": None},
        {"items": ["address"] * 10_000},
    ]:
        yield Body(f"JSON {str(doc)[:30]}", json.dumps(doc).encode(), "application/json")
    yield Body("JSON, wrong charset", '{"a": "é"}'.encode(), "application/json; charset=utf-16")
    yield Body("JSON, unknown charset", b"{}", "application/json; charset=klingon")
    yield Body("text", b"hello", "text/plain")
    yield Body("XML", b"<?xml version='1.0'?><a/>", "application/xml")
    yield Body(
        "odd idempotency key", b"{}", "application/json", {"HTTP_IDEMPOTENCY_KEY": "キー".encode().decode("latin-1")}
    )
    yield Body("long idempotency key", b"{}", "application/json", {"HTTP_IDEMPOTENCY_KEY": "k" * 5000})
    yield Body("good idempotency key", b"{}", "application/json", {"HTTP_IDEMPOTENCY_KEY": "fuzz-key-0001"})


# The admin's model views are the same code for every model: fuzz those of one model per access.
FUZZED_MODELS = {
    next(label for label, a in ADMIN_MODELS.items() if a == access) for access in set(ADMIN_MODELS.values())
}


def _targets(method: str) -> Iterator[tuple[UrlEntry, Principal]]:
    for entry in url_entries():
        model = entry.model
        if model is not None and model._meta.label_lower not in FUZZED_MODELS:
            continue
        rule = rule_for(entry.key)
        assert rule is not None
        allowed = [p for p in Principal if outcome(rule, p, method) == Outcome.OK]
        if allowed:
            yield entry, allowed[0]
        if rule.zone == Zone.API:
            yield entry, Principal.ANONYMOUS  # refusals read the body too (idempotency keys)


def _problem(entry: UrlEntry, response: Any) -> str | None:
    if entry.key == "healthz-ready" and response.status_code == 503 and response.json()["status"] == "failing":
        return None  # readiness says "not ready" so by design (nothing runs beside this test)
    if response.status_code >= 500:
        return f"server error {response.status_code}"
    if entry.key.startswith(("api:", "api-")) and response.status_code >= 400:
        try:
            body = json.loads(response.content)
        except ValueError:
            return f"{response.status_code} without JSON: {response.content[:120]!r}"
        if not (isinstance(body, dict) and body.get("code") and body.get("message")):
            return f"{response.status_code} without code and message: {body!r:.120}"
    return None


@pytest.mark.django_db
def test_no_post_body_gets_a_server_error(world):
    problems = []
    for entry, principal in _targets("POST"):
        url = url_for(entry, world.url_args)
        client = world.client(principal, raise_request_exception=False)
        for body in bodies():
            if entry.key in ("logout", "admin:logout"):
                client = world.client(principal, raise_request_exception=False)
            response = client.generic("POST", url, body.data, content_type=body.content_type, **body.headers)
            if (why := _problem(entry, response)) is not None:
                problems.append(f"POST {url} as {principal}, {body.label}: {why}")
    assert problems == [], f"{len(problems)} bad answers:\n" + "\n".join(problems)


QUERIES = [
    "q=%00",
    "q=" + "x" * 5000,
    "q=%FF%FE",
    "%00=%00",
    "q=%E2%80%AE",
    "p=-1",
    "p=99999999999999999999",
    "o=99.-x",
    "kind=%00",
    "action=%00",
    "occurred_at__gte=garbage",
    "consent__id__exact=abc",
    "_changelist_filters=%FF",
    "next=//evil.example/",
    "e=1",
]


@pytest.mark.django_db
def test_no_query_string_gets_a_server_error(world):
    problems = []
    for entry, principal in _targets("GET"):
        url = url_for(entry, world.url_args)
        client = world.client(principal, raise_request_exception=False)
        for query in QUERIES:
            response = client.get(f"{url}?{query}")
            if (why := _problem(entry, response)) is not None:
                problems.append(f"GET {url}?{query[:40]} as {principal}: {why}")
    assert problems == [], f"{len(problems)} bad answers:\n" + "\n".join(problems)
