"""R14: a My Number typed anywhere is refused with a message naming the field, and nothing of it
is kept: no column of any table and no log record holds it afterwards, and the idempotency layer
keeps neither the refused page (which shows the text again) nor the request's fingerprint."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.text import capfirst
from django_otp.plugins.otp_totp.models import TOTPDevice

from driver_records.models import DriverRecord
from onestop.models import IdempotentRequest, User
from onestop.permission_matrix import Principal
from tests.conftest import StaffClient
from tests.security.leaks import log_texts
from tests.security.r14_text import with_check_digit

# A distinctive My Number (its check digit from the ordinance, tests/security/r14_text.py),
# written in forms the first check of R14 let through.
NUMBER = with_check_digit("86420135792")
WRITTEN = [
    f"本人申出 {NUMBER[:4]}・{NUMBER[4:8]}・{NUMBER[8:]}",
    f"窓口2 {NUMBER[:4]} {NUMBER[4:8]} {NUMBER[8:]}",
    f"2024/04/01 {NUMBER[:4]}.{NUMBER[4:8]}.{NUMBER[8:]} 受付",
    f"番号 {NUMBER[:4]}/{NUMBER[4:8]}/{NUMBER[8:]}",
    f"{NUMBER[:4]}_{NUMBER[4:8]}_{NUMBER[8:]} と記載",
]


def _digits(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isascii() and ch.isdigit())


def _columns_holding(digits: str) -> list[str]:
    """Every column of every table (the project's, Django's and the libraries') whose value, read
    as text with its separators dropped, contains the digits."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (names from the catalogue)
            names = [c[0] for c in cursor.description]  # DB-API: the name comes first
            for row in cursor.fetchall():
                for name, value in zip(names, row, strict=True):
                    if isinstance(value, memoryview | bytes):
                        text = bytes(value).decode("utf-8", "replace")
                    elif isinstance(value, dict | list):
                        text = json.dumps(value, ensure_ascii=False)
                    else:
                        text = str(value)
                    if digits in _digits(text):
                        found.append(f"{table}.{name}")
    return found


@dataclass(frozen=True)
class Path:
    """One way to type text into the service: who, where, and the field's label (English msgid)."""

    name: str
    send: Callable[[Any, str], Any]  # (world, text) -> response
    field: str
    translated: bool = True  # an API field is named as the API names it


def _key(text: str) -> str:
    return "r14-" + _digits(text)[:4] + str(len(text))  # one idempotency key per text


def _revoke(world: Any, text: str) -> Any:
    url = reverse("consents:revoke", args=[world.consent.pk])
    data = {"reason": text, "confirmed": "1", "idempotency_key": _key(text)}
    return world.client(Principal.SUPERVISOR).post(url, data)


def _propose(world: Any, text: str) -> Any:
    url = reverse("safeguards:suspension-propose", args=[world.record.pk])
    data = {"reason_code": "misuse", "grounds": "suspected", "note": text, "idempotency_key": _key(text)}
    return world.client(Principal.SUPERVISOR).post(url, data)


def _disclosure(world: Any, text: str) -> Any:
    url = reverse("safeguards:disclosure-new", args=[world.record.pk])
    data = {"requester_kind": "holder", "requester_name": text, "received_on": "2026-04-01"}
    return world.client(Principal.SUPERVISOR).post(url, {**data, "idempotency_key": _key(text)})


def _counter_search(world: Any, text: str) -> Any:
    return world.client(Principal.CLERK).get(reverse("counter:home"), {"q": text})


def _admin_search(world: Any, text: str) -> Any:
    url = reverse("admin:driver_records_driverrecord_changelist")
    return world.client(Principal.AUDITOR).get(url, {"q": text}, follow=True)


def _admin_export(world: Any, text: str) -> Any:
    url = reverse("admin:driver_records_driverrecord_export")
    return world.client(Principal.AUDITOR).get(url, {"q": text}, follow=True)


def _api(world: Any, text: str) -> Any:
    return world.client(Principal.CLERK).post(
        reverse("api:statements"),
        {"record_id": world.record.pk, "items": [text]},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=_key(text),
    )


def _login(world: Any, text: str) -> Any:
    return Client().post(reverse("login"), {"username": text, "password": "whatever-it-is"})


PATHS = [
    Path("revocation reason", _revoke, "Reason for revoking"),
    Path("suspension note", _propose, "Note: what was done, and how it came to light"),
    Path("requester's name", _disclosure, "Requester's name (as written on the form)"),
    Path("counter search", _counter_search, "Record number or name"),
    Path("admin search", _admin_search, "Search"),
    Path("admin export's search", _admin_export, "Search"),
    Path("API request field", _api, "items", translated=False),
    Path("login username", _login, "Username"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_r14_a_refused_my_number_names_the_field_and_leaves_nothing(world, every_log, path):
    with translation.override("ja"):
        label = translation.gettext(path.field) if path.translated else path.field
    before = IdempotentRequest.objects.count()
    for text in WRITTEN:
        answer = path.send(world, text)
        page = answer.content.decode()
        if answer["Content-Type"].startswith("application/json"):
            page = json.dumps(answer.json(), ensure_ascii=False)
        assert f"「{label}」に、個人番号（マイナンバー）" in page, text  # plain Japanese, naming the field
    assert _columns_holding(NUMBER) == []
    assert [t for t in log_texts(every_log) if NUMBER in _digits(t)] == []
    assert IdempotentRequest.objects.count() == before  # neither the page nor the fingerprint kept


@pytest.mark.django_db
def test_r14_the_admin_form_refuses_a_my_number_in_a_holders_name_naming_the_field(world, every_log):
    superuser = User.objects.create_superuser("root", password="root-password-0123456789")
    TOTPDevice.objects.create(user=superuser, name="authenticator", confirmed=True)
    client = StaffClient()
    client.force_login(superuser)
    fields = {
        "kind": "licence",
        "number": "301234567890",
        "name": WRITTEN[0],
        "birth_date": "1990-04-01",
        "address": "東京都千代田区１",
        "prefecture": "13",
        "holding_status": "licence_card_only",
    }
    page = client.post(reverse("admin:driver_records_driverrecord_add"), fields).content.decode()
    with translation.override("ja"):
        label = capfirst(DriverRecord._meta.get_field("name").verbose_name)
    assert f"「{label}」に、個人番号" in page
    assert _columns_holding(NUMBER) == []
    assert [t for t in log_texts(every_log) if NUMBER in _digits(t)] == []


@pytest.mark.django_db
def test_r14_the_scan_finds_a_kept_number(world):
    """The column scan above can fail: it finds the digits however they were written."""
    DriverRecord.objects.filter(pk=world.record.pk).update(address=WRITTEN[1])
    assert "driver_records_driverrecord.address" in _columns_holding(NUMBER)
