"""The scanner (issue 16): distinctive values are planted through every path the service has
(J-LIS's feed over real HTTP, the applier, the quarantine, a Mynaportal registration, the
counter's pages, the terminal API, the admin and its CSV export, repeated requests, the logs),
then every text, JSON and bytes column of every table of the PostgreSQL database (the tables
Django's models name and any other the schema holds) and every captured log record are
searched. It fails on a value where it must not be:

- a My Number (R14), in any of the ways people write one: nowhere, ever;
- an item the holder did not choose (R2): nowhere but the consent's signing certificate, the one
  column the map says keeps the four basic items (docs/personal-data.md, "The signing certificate");
- the values of an event that could not be read: nowhere (the quarantine keeps none);
- after a suspension's erasure (R15), the suspended holder's values: nowhere but the columns the
  map says survive it, each with the map's reason.

Expected places come from the rules and the map (onestop/personal_data), not from where the code
happens to write.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import pytest
from django.apps import apps
from django.contrib.sessions.models import Session
from django.db import connection
from django.urls import reverse

from applier.batch import events_apply_pending
from consents.models import Consent, ConsentStatement, TermsVersion
from consents.services import consent_register, mynaportal_link_record
from consents.services.terminals import terminal_create
from driver_records.models import DriverRecord
from jlis_gateway.models import JlisEvent, OutboxMessage, QuarantinedEvent
from jlis_gateway.services.poll import events_poll
from jlis_gateway.services.relay import outbox_send
from onestop.personal_data import PERSONAL
from safeguards.models import SuspensionRequest, SuspensionStatus
from tests.factories import DriverRecordFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# --- the values planted -----------------------------------------------------------------------
A_NAME, A_ADDRESS = "甲野　太一", "東京都千代田区霞が関二丁目１番１号"
UNCONSENTED_NAME = "秘匿　禁子"  # J-LIS's new name for A, who chose the address only
QUARANTINED_ADDRESS = "東京都府中市蘭鋳町９丁目９番９号"  # in an event that cannot be read
B_NAME = "乙川　停子"  # the holder who will be suspended
B_ADDRESS_0 = "東京都八王子市鶴亀町一丁目１番１号"  # at registration (in B's certificate)
B_ADDRESS_1 = "東京都調布市燕雀町二丁目２番２号"  # J-LIS's first move, replaced by the second
B_ADDRESS_2 = "東京都三鷹市鳳凰町三丁目３番３号"  # J-LIS's second move: the record's address now


def my_number_check_digit(first_eleven: str) -> int:
    """総務省令第85号 第5条 (DOMAIN.md): P1..P11 from the right, Q = n+1 for n<=6 else n-5."""
    total = sum(int(p) * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(reversed(first_eleven), start=1))
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


assert my_number_check_digit("12345678901") == 8  # the published example


def generated_my_number(seed: int) -> str:
    """Twelve digits with a right check digit, made up here (never a real person's)."""
    rng = random.Random(seed)
    first = "".join(rng.choice("0123456789") for _ in range(11))
    return first + str(my_number_check_digit(first))


MY_NUMBER = generated_my_number(16)
_G = (MY_NUMBER[:4], MY_NUMBER[4:8], MY_NUMBER[8:])
_KANJI = str.maketrans("0123456789", "〇一二三四五六七八九")
# How people write it (onestop/my_number.py lists what R14 must catch).
MY_NUMBER_FORMS = [
    MY_NUMBER,
    " ".join(_G),
    "　".join(_G),
    "-".join(_G),
    ".".join(_G),
    "/".join(_G),
    ",".join(_G),
    "・".join(_G),
    "_".join(_G),
    "ー".join(_G),
    unicodedata.normalize("NFKC", MY_NUMBER).translate({ord(d): 0xFF10 + int(d) for d in "0123456789"}),
    MY_NUMBER.translate(_KANJI),
    " ".join(MY_NUMBER),
    "-".join(MY_NUMBER[i : i + 3] for i in range(0, 12, 3)),
    "窓口2 " + " ".join(_G),
    "窓口2" + "-".join(_G),
]


def in_text(form: str) -> str:
    return f"本人の個人番号 {form} を控えた"


# --- the scan ---------------------------------------------------------------------------------
TEXT_TYPES = {"text", "character varying", "character", "json", "jsonb", "xml", "ARRAY", "USER-DEFINED"}


@dataclass(frozen=True)
class Hit:
    column: str  # table.column
    needle: str


def scanned_columns() -> list[tuple[str, str, str]]:
    """(table, column, data_type) of every text, JSON, bytes (and array) column of every table in
    the database's schema, the models' and any other; the models' tables must all be there."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c"
            " JOIN information_schema.tables t USING (table_schema, table_name)"
            " WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'"
            " ORDER BY c.table_name, c.ordinal_position"
        )
        columns = [row for row in cursor.fetchall() if row[2] in TEXT_TYPES or row[2] == "bytea"]
    tables = {table for table, _column, _type in columns}
    model_tables = {m._meta.db_table for m in apps.get_models(include_auto_created=True)}
    with connection.cursor() as cursor:
        cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
        schema_tables = {row[0] for row in cursor.fetchall()}
    assert model_tables <= schema_tables, model_tables - schema_tables
    assert "django_migrations" in tables  # a table no model names is searched too
    return columns


def _needle_forms(needle: str) -> set[str]:
    """The needle as text, and as JSON writes it when it escapes non-ASCII characters."""
    return {needle, json.dumps(needle)[1:-1]}


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def scan(needles: Iterable[str]) -> set[Hit]:
    """Every (column, needle) where a stored value contains the needle: text and JSON as text
    (as stored and JSON-escaped), bytes as the needle's UTF-8 (and JSON-escaped) bytes."""
    needles = sorted(set(needles))
    text_forms = {form: needle for needle in needles for form in _needle_forms(needle)}
    hex_forms = {form.encode().hex(): needle for form, needle in text_forms.items()}
    hits: set[Hit] = set()
    with connection.cursor() as cursor:
        for table, column, data_type in scanned_columns():
            t, c = connection.ops.quote_name(table), connection.ops.quote_name(column)
            forms = hex_forms if data_type == "bytea" else text_forms
            value = f"encode({c}, 'hex')" if data_type == "bytea" else f"{c}::text"
            cursor.execute(
                f"SELECT DISTINCT {value} FROM {t} WHERE {value} LIKE ANY(%s)",  # noqa: S608 (names from the schema)
                [[_like(form) for form in forms]],
            )
            for (stored,) in cursor.fetchall():
                hits |= {Hit(f"{table}.{column}", needle) for form, needle in forms.items() if form in stored}
    # A session is stored signed and compressed: searched as its decoded content too.
    for session in Session.objects.all():
        decoded = json.dumps(session.get_decoded(), ensure_ascii=False, default=str)
        hits |= {Hit("django_session.session_data (decoded)", n) for f, n in text_forms.items() if f in decoded}
    return hits


def logged(records: list[logging.LogRecord]) -> str:
    """Everything a log handler could write of the captured records: message, arguments, extras,
    exception text."""
    parts = []
    for record in records:
        parts.append(record.getMessage())
        parts.append(repr(record.__dict__))
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


def tokens(*values: str) -> list[str]:
    """The distinctive parts of names and addresses (a family or given name, a town), so a value
    is found however it was spaced or cut."""
    out = []
    for value in values:
        out += [part for part in value.replace("　", " ").split(" ") if part]
    return out


def town(address: str) -> str:
    """The made-up town of a planted address (e.g. 鳳凰町), which nothing else contains."""
    start = next(i for i, ch in enumerate(address) if ch in "市区") + 1
    return address[start : address.index("町") + 1]


def survives(column: str, reason_has: str) -> str:
    """The map's reason a column keeps a suspended holder's value: it must be in the map, R15 must
    not be what erases it, and the reason must say why. Returns the reason, for the message."""
    label = (
        {
            "driver_records_driverrecord": "driver_records.driverrecord",
            "safeguards_disclosurerequest": "safeguards.disclosurerequest",
        }[column.split(".")[0]]
        + "."
        + column.split(".")[1]
    )
    entry = PERSONAL[label]
    assert "R15" not in entry.erased_by, f"the map says R15 erases {label}"
    assert reason_has in entry.rule or reason_has in entry.kept, (label, entry)
    return f"{label}: {entry.rule}; kept {entry.kept}"


# --- the paths ----------------------------------------------------------------------------------
def poll_and_apply() -> None:
    for _ in range(30):
        if not events_poll().has_more:
            break
    events_apply_pending()


def send_outbox() -> None:
    for message in OutboxMessage.objects.filter(status="pending"):
        outbox_send(message_id=message.pk)


def ok(response, *statuses: int) -> None:
    assert response.status_code in (statuses or (200, 302)), (response.status_code, response.content[:500])


def refused(response, status: int = 200) -> str:
    """A form or API answer that refused a My Number: the field named, the reason in Japanese."""
    body = response.content.decode()
    assert response.status_code == status, (response.status_code, body[:500])
    assert "個人番号" in body, body[:2000]
    return body


@pytest.fixture
def world(client, clerk, supervisor, second_supervisor, auditor, tokyo_office, issue_card_for, jlis_simulator):
    TermsVersion.objects.create(version="2025.1", effective_date=date(2025, 3, 24), text="利用規約")
    a = DriverRecordFactory(name=A_NAME, address=A_ADDRESS)
    b = DriverRecordFactory(name=B_NAME, address=B_ADDRESS_0)
    return {"a": a, "b": b, "card_a": issue_card_for(a), "card_b": issue_card_for(b)}


def test_no_value_is_where_the_rules_and_the_map_say_it_must_not_be(
    world, client, clerk, supervisor, second_supervisor, auditor, tokyo_office, jlis_simulator, caplog
):
    caplog.set_level(logging.DEBUG)
    a, b = world["a"], world["b"]

    # Counter (pages): A's statement, address only; signed with A's card; J-LIS takes it.
    client.force_login(clerk)
    ok(client.get(reverse("counter:record", args=[a.pk])))
    ok(client.post(reverse("consents:statement-new", args=[a.pk]), {"items": ["address"]}))
    statement_a = ConsentStatement.objects.get(record=a)
    consent_register(
        statement_id=statement_a.pk,
        signature=world["card_a"].sign(statement_a.text.encode()),
        certificate_der=world["card_a"].certificate_der,
        actor=clerk,
    )

    # API, repeated: B's statement made by the clerk and signed at a terminal, each POST twice
    # with its idempotency key (the second is a replay of the kept answer).
    _terminal, token = terminal_create(name="府中1", office=tokyo_office, actor=None)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    statement_body = json.dumps({"record_id": b.pk, "items": ["address", "name"]})
    for _ in range(2):
        made = client.post(
            "/api/v1/statements/", statement_body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="scan-b-stmt"
        )
        ok(made, 201)
    statement_b = ConsentStatement.objects.get(record=b)
    assert made["Idempotent-Replayed"] == "true"
    b_statement_line = f"確認番号: {statement_b.nonce}"
    assert b_statement_line in statement_b.text
    signed = {
        "signature": base64.b64encode(world["card_b"].sign(statement_b.text.encode())).decode(),
        "certificate": base64.b64encode(world["card_b"].certificate_der).decode(),
    }
    for _ in range(2):
        ok(
            client.post(
                f"/api/v1/statements/{statement_b.pk}/signature/",
                json.dumps(signed),
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY="scan-b-sign",
                **bearer,
            ),
            201,
        )

    # Poll (the simulator over HTTP) and apply: both consents reflected.
    send_outbox()
    for consent in Consent.objects.all():
        jlis_simulator.reflect(consent_id=consent.jlis_consent_id)
    poll_and_apply()
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.cert_serial == world["card_a"].serial and b.cert_serial == world["card_b"].serial
    holder = {a.pk: 1, b.pk: 2}  # the simulator numbers holders in the order their consents came

    # J-LIS renames A, who chose the address only (R2): the name must not be kept.
    jlis_simulator.rename(holder=holder[a.pk], name=UNCONSENTED_NAME)
    # B moves twice (address and name chosen): applied, and in B's history.
    jlis_simulator.move(holder=holder[b.pk], address=B_ADDRESS_1)
    poll_and_apply()
    jlis_simulator.move(holder=holder[b.pk], address=B_ADDRESS_2)
    poll_and_apply()
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.name == A_NAME and a.cert_serial != world["card_a"].serial  # relinked, the name not taken
    assert b.address == B_ADDRESS_2

    # Mynaportal: A is linked and registers again, address only, with the renamed certificate.
    mynaportal_link_record(record_id=a.pk, actor=clerk)
    jlis_simulator.register(holder=holder[a.pk], items=["address"])
    poll_and_apply()
    registered = Consent.objects.get(record=a, channel="mynaportal")
    assert UNCONSENTED_NAME.split("　")[0].encode() in bytes(registered.certificate)  # the evidence (R3)

    # Quarantine: A's next move comes unreadable.
    jlis_simulator.fault("malformed_event", count=1)
    jlis_simulator.move(holder=holder[a.pk], address=QUARANTINED_ADDRESS)
    poll_and_apply()
    assert QuarantinedEvent.objects.exists()

    # R14: a My Number in every free-text field, written every way, each refused.
    forms = iter(MY_NUMBER_FORMS * 3)
    client.force_login(supervisor)
    consent_a = Consent.objects.filter(record=a, channel="counter").get()
    for attempt in range(3):
        refused(
            client.post(
                reverse("consents:revoke", args=[consent_a.pk]),
                {"reason": in_text(next(forms)), "confirmed": "1", "idempotency_key": f"scan-revoke-{attempt}"},
            )
        )
    refused(client.post(reverse("safeguards:suspension-propose", args=[a.pk]), {
        "reason_code": "misuse", "grounds": "suspected", "note": in_text(next(forms))}))  # fmt: skip
    refused(client.post(reverse("safeguards:disclosure-new", args=[a.pk]), {
        "requester_kind": "holder", "requester_name": next(forms), "received_on": "2026-01-05"}))  # fmt: skip
    # A search box takes a record number: twelve digits however separated are searched for, not
    # refused (about 18% of licence numbers pass the check, DOMAIN.md), and kept nowhere (the scan).
    ok(client.get(reverse("counter:home"), {"q": next(forms)}))
    refused(client.get(reverse("counter:home"), {"q": in_text(next(forms))}))
    refused(client.get(reverse("counter:home"), {"q": "甲野", "birth_date": next(forms)}))
    client.force_login(clerk)
    api_refusal = client.post(
        "/api/v1/statements/",
        json.dumps({"record_id": a.pk, "items": [next(forms)]}),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="scan-api-refused",
    )
    refused(api_refusal, 400)
    client.logout()
    login = client.post(reverse("login"), {"username": next(forms), "password": "x" * 12})
    refused(login)

    # Admin: an auditor searches (by B's name, and by a My Number), opens B's record, exports CSV.
    client.force_login(auditor)
    records_admin = reverse("admin:driver_records_driverrecord_changelist")
    ok(client.get(records_admin, {"q": "乙川"}))
    ok(client.get(records_admin, {"q": next(forms)}))
    refused(client.get(records_admin, {"q": in_text(next(forms))}, follow=True))  # the list without it, with why
    ok(client.get(reverse("admin:driver_records_driverrecord_change", args=[b.pk])))
    export = client.get(reverse("admin:driver_records_driverrecord_export"), {"q": "乙川"})
    ok(export)
    assert B_NAME.encode() in b"".join(export.streaming_content)  # the export did run
    export_url = reverse("admin:driver_records_driverrecord_export")
    refused(client.get(export_url, {"q": in_text(next(forms))}, follow=True))  # back to the list, with why
    ok(client.get(reverse("admin:jlis_gateway_jlisevent_changelist")))
    ok(client.get(reverse("admin:driver_records_recordchange_changelist"), {"q": "燕雀町"}))

    # B asks what is held about them (R16), by name as written on the form.
    client.force_login(supervisor)
    ok(client.post(reverse("safeguards:disclosure-new", args=[b.pk]), {
        "requester_kind": "holder", "requester_name": B_NAME, "received_on": "2026-01-05"}))  # fmt: skip

    # --- before the suspension ------------------------------------------------------------------
    # The certificates as they travel in text (base64, as J-LIS's registration and the API carry
    # them): kept as bytes on the consent only, never as a copy (docs/personal-data.md).
    registration_certificate = base64.b64encode(bytes(registered.certificate)).decode()
    never = [*MY_NUMBER_FORMS, *tokens(UNCONSENTED_NAME), town(QUARANTINED_ADDRESS), registration_certificate]
    never.append(base64.b64encode(world["card_a"].certificate_der).decode())
    certificate_only = set(tokens(UNCONSENTED_NAME))
    b_values = [*tokens(B_NAME), town(B_ADDRESS_0), town(B_ADDRESS_1), town(B_ADDRESS_2), b_statement_line]
    never.append(base64.b64encode(world["card_b"].certificate_der).decode())
    found = scan([*never, *b_values])
    wrong = {h for h in found if h.needle in never} - {
        h for h in found if h.needle in certificate_only and h.column == "consents_consent.certificate"
    }
    assert wrong == set(), sorted(wrong, key=str)
    # The planted values are there to be found, where the rules put them.
    assert Hit("consents_consent.certificate", "禁子") in found  # the one column for the four items
    for column in ("driver_records_recordchange.new_value", "jlis_gateway_jlisevent.payload"):
        assert Hit(column, town(B_ADDRESS_1)) in found, column
    assert Hit("onestop_idempotentrequest.body", b_statement_line) in found  # the kept answer
    assert Hit("consents_consentstatement.text", b_statement_line) in found

    # --- R15: B is suspended (two supervisors, the counter's pages) --------------------------------
    ok(client.post(reverse("safeguards:suspension-propose", args=[b.pk]), {
        "reason_code": "misuse", "grounds": "evident", "note": "目的外の利用"}))  # fmt: skip
    proposal = SuspensionRequest.objects.get(record=b)
    client.force_login(second_supervisor)
    decide = reverse("safeguards:suspension", args=[proposal.pk])
    ok(client.post(decide, {"decision": "confirm", "note": "", "confirmed": "1"}))
    proposal.refresh_from_db()
    assert proposal.status == SuspensionStatus.CONFIRMED

    found = scan([*never, *b_values])
    wrong = {h for h in found if h.needle in never} - {
        h for h in found if h.needle in certificate_only and h.column == "consents_consent.certificate"
    }
    assert wrong == set(), sorted(wrong, key=str)
    # What the map says survives of B, and why: the police's own record (its name as typed and
    # folded for search, and the address J-LIS gave last), and the disclosure request B made.
    record_columns = {
        "driver_records_driverrecord.name",
        "driver_records_driverrecord.name_key",
        "driver_records_driverrecord.given_key",
    }
    allowed = {n: record_columns | {"safeguards_disclosurerequest.requester_name"} for n in tokens(B_NAME)}
    allowed[town(B_ADDRESS_2)] = {"driver_records_driverrecord.address"}
    reasons = {
        column: survives(column, "R16" if column.startswith("safeguards") else "police")
        for columns in allowed.values()
        for column in columns
    }
    left = {h for h in found if h.needle in b_values}
    unexplained = {h for h in left if h.column not in allowed.get(h.needle, set())}
    assert unexplained == set(), (sorted(unexplained, key=str), reasons)
    assert {h.column for h in left if h.needle == town(B_ADDRESS_2)} == {"driver_records_driverrecord.address"}
    assert DriverRecord.objects.get(pk=b.pk).name == B_NAME  # the record stays (defensive-measures.md)

    # --- the logs --------------------------------------------------------------------------------
    text = logged(caplog.records)
    assert caplog.records, "nothing was logged: the log check would prove nothing"
    leaked = [v for v in [*never, *b_values, *tokens(A_NAME)] if v in text]
    assert leaked == [], leaked
    assert not JlisEvent.objects.filter(status="pending").exists()
