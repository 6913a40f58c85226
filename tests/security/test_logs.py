"""No personal data in the logs: the main flows run with every logger (ours and the libraries')
at DEBUG, and no record carries a holder's name, address, birthdate, certificate or statement
text, nor a password or what was typed as a username at a failed login."""

from __future__ import annotations

import base64
import json
import runpy
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from gunicorn.config import Config
from gunicorn.glogging import Logger

from applier.batch import events_apply_pending
from consents.jpki.democard import demo_card_for
from consents.models import Consent, ConsentStatement, ConsentStatus
from driver_records.models import DriverRecord
from jlis_gateway.models import OutboxMessage, OutboxStatus
from jlis_gateway.services.poll import events_poll
from jlis_gateway.services.relay import outbox_send
from jlis_gateway.tasks import poll_events
from onestop.logging import JsonFormatter
from onestop.permission_matrix import Principal
from tests.conftest import StaffClient, staff_password
from tests.factories import DriverRecordFactory
from tests.jlis_fixtures import wait_until

from .leaks import birthdate_forms, certificate_fragments, leaks, log_texts

ROOT = Path(__file__).resolve().parents[2]
NEW_ADDRESS = "東京都府中市多磨町３丁目１番地"
NEW_NAME = "佐藤　花子"
TYPED_AS_USERNAME = "hunter2-correct-horse"  # a password typed into the username box
WRONG_PASSWORD = "wrong-password-typed-4711"


def personal_strings(records: list[DriverRecord], certificates: list[bytes]) -> dict[str, str]:
    """What must not be logged, with what it is."""
    found: dict[str, str] = {}
    for record in records:
        for name in (record.name, NEW_NAME):
            found[name] = "a name"
            for part in name.split("\u3000"):
                found[part] = "part of a name"
        for address in (record.address, NEW_ADDRESS):
            found[address] = "an address"
            found[address[3:11]] = "part of an address"
        for form in birthdate_forms(record.birth_date):
            found[form] = "a birthdate"
    for der in certificates:
        for fragment in certificate_fragments(der):
            found[fragment] = "a certificate fragment"
    found["-----BEGIN"] = "a PEM block"
    for statement in ConsentStatement.objects.all():
        found[statement.text] = "a statement text"
        for line in statement.text.splitlines():
            if line.startswith(("住所変更", "私は、", "確認番号")):
                found[line] = "a line of a statement"
    for value, what in list(found.items()):  # as they appear in a URL
        if what in ("a name", "part of a name", "an address", "part of an address"):
            found[quote(value)] = found[quote_plus(value)] = f"{what}, URL-encoded"
    found[TYPED_AS_USERNAME] = "what was typed as a username at a failed login"
    found[WRONG_PASSWORD] = "a password"
    return found


def test_the_leak_check_finds_a_name_a_birthdate_and_a_certificate(jpki_hierarchy):
    """The control: the check sees personal data when it is there."""
    der = jpki_hierarchy.signing_ca.certificate.public_bytes(Encoding.DER)
    personal = {"山田": "part of a name"} | dict.fromkeys(birthdate_forms(date(1980, 5, 17)), "a birthdate")
    personal |= dict.fromkeys(certificate_fragments(der), "a certificate fragment")
    logged = ["holder 山田 moved", "born 1980/05/17", "cert " + base64.b64encode(der).decode()[101:181]]
    assert {found.split(":")[0] for found in leaks(logged, personal)} == {
        "a birthdate",
        "a certificate fragment",
        "part of a name",
    }
    assert leaks(["applied to record 7", "consent 3 registered pending for record 7"], personal) == []


def _code(user) -> str:
    device = TOTPDevice.objects.get(user=user)
    return f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}"


def _login(username: str, second_factor_user: Any = None) -> Client:
    client = Client()
    assert (
        client.post(reverse("login"), {"username": username, "password": staff_password(username)}).status_code == 302
    )
    if second_factor_user is not None:
        assert client.post(reverse("second_factor"), {"token": _code(second_factor_user)}).status_code == 302
    return client


def _send_outbox(consent: Consent) -> None:
    for message in OutboxMessage.objects.filter(consent=consent, status=OutboxStatus.PENDING):
        assert outbox_send(message_id=message.pk).status == "sent"
    consent.refresh_from_db()


def _poll_and_apply() -> None:
    for _ in range(20):
        if not events_poll().has_more:
            break
    events_apply_pending()


@pytest.mark.django_db(transaction=True)
def test_the_main_flows_log_no_personal_data(world, jlis_simulator, issue_card_for, supervisor, auditor, every_log):
    counter_record = DriverRecordFactory(
        prefecture="13", holding_status="licence_card_only", birth_date=date(1975, 1, 9)
    )
    api_record = DriverRecordFactory(prefecture="13", holding_status="licence_card_only", birth_date=date(1992, 11, 3))

    # A failed login, and one with a password typed into the username box.
    Client().post(reverse("login"), {"username": "alice", "password": WRONG_PASSWORD})
    Client().post(reverse("login"), {"username": TYPED_AS_USERNAME, "password": WRONG_PASSWORD})

    # The counter: search, the holder page, a statement, a tampered and a good demo signature.
    clerk = _login("alice", world.users[Principal.CLERK])
    assert clerk.get(reverse("counter:home"), {"q": counter_record.name}).status_code == 200
    assert clerk.get(reverse("counter:home"), {"q": counter_record.number}).status_code == 302  # opens the holder
    assert clerk.get(reverse("counter:home"), {"q": f"{counter_record.name} 1234-5678-9018"}).status_code == 200
    assert clerk.get(reverse("counter:record", args=[counter_record.pk])).status_code == 200
    started = clerk.post(
        reverse("consents:statement-new", args=[counter_record.pk]), {"items": ["address", "name", "birth_date"]}
    )
    statement = ConsentStatement.objects.get(record=counter_record)
    assert started["Location"] == reverse("consents:statement", args=[statement.pk])
    assert clerk.get(started["Location"]).status_code == 200
    sign = reverse("consents:statement-demo-sign", args=[statement.pk])
    assert clerk.post(sign, {"variant": "tampered"}).status_code == 302
    assert clerk.post(sign, {"variant": "valid"}).status_code == 302
    counter_consent = Consent.objects.get(record=counter_record)
    assert clerk.get(reverse("consents:receipt", args=[counter_consent.pk])).status_code == 200

    # The terminal API: a statement made by the clerk, signed at the terminal; and its errors.
    made = clerk.post(
        reverse("api:statements"),
        {"record_id": api_record.pk, "items": ["address", "name"]},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="logs-statement-1",
    )
    assert made.status_code == 201
    terminal = world.client("terminal")
    sign_url = reverse("api:statement-sign", args=[made.json()["id"]])
    assert terminal.get(reverse("api:statements")).status_code == 200
    assert terminal.get(reverse("api:statement", args=[made.json()["id"]])).status_code == 200
    card = issue_card_for(api_record)
    garbage = {
        "signature": base64.b64encode(b"\1" * 256).decode(),
        "certificate": base64.b64encode(b"\2" * 900).decode(),
    }
    refused = terminal.post(sign_url, garbage, content_type="application/json", HTTP_IDEMPOTENCY_KEY="logs-sign-bad")
    assert refused.status_code == 422
    assert (
        terminal.post(sign_url, "{not json", content_type="application/json", HTTP_IDEMPOTENCY_KEY="logs-x").status_code
        == 400
    )
    assert Client().get(reverse("api:statements")).status_code == 401
    text = made.json()["text"].encode()
    good = {
        "signature": base64.b64encode(card.sign(text)).decode(),
        "certificate": base64.b64encode(card.certificate_der).decode(),
    }
    assert (
        terminal.post(sign_url, good, content_type="application/json", HTTP_IDEMPOTENCY_KEY="logs-sign-1").status_code
        == 201
    )
    api_consent = Consent.objects.get(record=api_record)
    assert terminal.get(reverse("api:consent-status", args=[api_record.pk])).status_code == 200

    # J-LIS: both consents sent, reflected, then the holders move and rename (holders 1 and 2).
    _send_outbox(counter_consent)
    _send_outbox(api_consent)
    jlis_simulator.reflect(consent_id=counter_consent.jlis_consent_id)
    jlis_simulator.reflect(consent_id=api_consent.jlis_consent_id)
    _poll_and_apply()
    jlis_simulator.move(holder=1, address=NEW_ADDRESS)
    jlis_simulator.rename(holder=2, name=NEW_NAME)
    _poll_and_apply()
    counter_record.refresh_from_db()
    api_record.refresh_from_db()
    assert (counter_record.address, api_record.name) == (NEW_ADDRESS, NEW_NAME)  # the flows did run
    assert clerk.get(reverse("counter:record", args=[counter_record.pk])).status_code == 200  # with history

    # The supervisor revokes, and J-LIS is told.
    boss = _login("bob", supervisor)
    revoke = reverse("consents:revoke", args=[counter_consent.pk])
    assert boss.get(revoke, {"back": counter_record.name}).status_code == 200  # a query the page ignores
    assert boss.post(revoke, {"reason": "本人からの申出", "confirmed": "1"}).status_code == 302
    _send_outbox(counter_consent)
    assert counter_consent.status == ConsentStatus.REVOKED

    # The auditor reads the admin; refusals and unknown pages.
    reader = StaffClient()
    reader.force_login(auditor)
    assert reader.get(reverse("admin:driver_records_driverrecord_change", args=[api_record.pk])).status_code == 200
    listing = reader.get(reverse("admin:driver_records_driverrecord_changelist"), {"q": api_record.name})
    assert listing.status_code == 200
    assert reader.get(reverse("admin:driver_records_driverrecord_export"), {"q": api_record.name}).status_code == 200
    assert reader.get(reverse("admin:driver_records_recordchange_changelist")).status_code == 200
    assert reader.get(reverse("admin:jlis_gateway_jlisevent_changelist")).status_code == 200
    assert clerk.get(revoke).status_code == 403
    assert clerk.get(f"/counter/records/999999/?q={api_record.name}").status_code == 404

    certificates = [card.certificate_der, demo_card_for(counter_record).certificate_der, world.card.certificate_der]
    certificates += [bytes(c) for c in Consent.objects.exclude(certificate=b"").values_list("certificate", flat=True)]
    personal = personal_strings([counter_record, api_record, world.record], certificates)
    texts = log_texts(every_log)
    assert any("registered pending" in text for text in texts)  # the logs were captured
    assert leaks(texts, personal) == []
    assert json.loads(JsonFormatter().format(every_log[-1]))["logger"]  # lines stay JSON


def test_the_web_servers_access_log_leaves_out_query_strings_and_referrers(tmp_path):
    """gunicorn (Procfile, Dockerfile, compose) reads ./gunicorn.conf.py: a search by name, which
    travels in the query string, does not reach its access log."""
    cfg = Config()
    for name, value in runpy.run_path(str(ROOT / "gunicorn.conf.py")).items():
        if name in cfg.settings:
            cfg.set(name, value)
    cfg.set("accesslog", str(tmp_path / "access.log"))
    query = "q=" + quote("山田　太郎")
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/counter/?{query}",
        "PATH_INFO": "/counter/",
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.7",
        "HTTP_REFERER": f"https://onestop.example/counter/?{query}",
        "HTTP_USER_AGENT": "counter-browser",
    }
    response = SimpleNamespace(status="200 OK", sent=512, headers=[("X-Request-ID", "req-42")])
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    Logger(cfg).access(response, request, environ, timedelta(milliseconds=12))
    line = (tmp_path / "access.log").read_text()
    assert '"GET /counter/ HTTP/1.1" 200 512' in line and "rid=req-42" in line
    assert "q=" not in line and "%E5" not in line and "山田" not in line


@pytest.mark.celery_worker
def test_the_worker_logs_json_lines_with_the_task_id(celery_worker_process, jlis_simulator):
    result = poll_events.delay()

    def logged() -> list[dict[str, Any]]:
        lines = celery_worker_process.log.read_text(errors="replace").splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    wait_until(lambda: any(line["request_id"] == f"task:{result.id}" for line in logged()), 60, "the poll's log line")
    ours = [line for line in logged() if line["request_id"] == f"task:{result.id}"]
    assert any(line["message"].startswith("jlis poll done") for line in ours)
    assert any(line["logger"].startswith("celery") for line in logged())  # Celery's own lines too
