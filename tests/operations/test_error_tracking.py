"""Error reports sent to Sentry carry no personal data.

sentry-sdk runs for real (its Django integration, scrubbers and envelope encoding); only the
last step, sending over the network, is replaced by a transport that keeps the envelopes. An
error carrying a holder's name (in kanji and in Roman letters), address, birthdate in several
writings, signing certificate and a My Number (generated here, check digit by the rule) in its
message, its local variables, the request's query and body, a log line and extra context is
reported; the bytes that would be sent must hold none of them, and still say what failed where.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import re
from collections.abc import Iterator

import pytest
import sentry_sdk
from cryptography.hazmat.primitives.serialization import Encoding
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from operations.error_tracking import error_tracking_init

logger = logging.getLogger("onestop.tests.error_tracking")
NAME, ROMAN_NAME = "山田　太郎", "YAMADA TARO"
ADDRESS = "東京都千代田区霞が関二丁目１番１号"
BIRTH_DATES = ["1980-05-17", "1980/05/17", "19800517", "昭和55年5月17日"]


def my_number() -> str:
    """Twelve digits whose last is the check digit of 総務省令第85号 第5条 (DOMAIN.md)."""
    digits = [random.randrange(10) for _ in range(11)]
    total = sum(p * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(reversed(digits), start=1))
    remainder = total % 11
    return "".join(map(str, digits)) + str(0 if remainder <= 1 else 11 - remainder)


class KeptEnvelopes(Transport):
    sent: list[bytes] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        KeptEnvelopes.sent.append(envelope.serialize())


def _strings(envelopes: list[bytes]) -> Iterator[str]:
    """Every string in the envelopes' JSON items, decoded (escapes and all), keys included."""

    def walk(value: object) -> Iterator[str]:
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for key, item in value.items():
                yield key
                yield from walk(item)
        elif isinstance(value, list):
            for item in value:
                yield from walk(item)

    for envelope in envelopes:
        for line in envelope.splitlines():
            try:
                yield from walk(json.loads(line))
            except ValueError:
                yield line.decode("utf-8", errors="replace")


def failing_view(request: HttpRequest) -> HttpResponse:
    holder = {"name": NAME, "roman": ROMAN_NAME, "address": ADDRESS, "born": request.POST.get("born")}
    certificate_pem = request.POST["certificate"]
    number = request.POST["number"]
    logger.warning("about to fail for %s at %s", holder["name"], holder["address"])
    sentry_sdk.set_context("holder", holder)
    raise ValueError(
        f"cannot update '{NAME}' ({ROMAN_NAME}) living at {ADDRESS}, born {holder['born']} / 昭和55年5月17日, "
        f"number {number}, certificate {certificate_pem[:200]}"
    )


urlpatterns = [path("fail/", failing_view)]


@pytest.fixture
def sent(settings) -> Iterator[list[bytes]]:
    settings.ROOT_URLCONF = __name__
    KeptEnvelopes.sent = []
    error_tracking_init(dsn="https://public@o0.ingest.example.invalid/1", environment="test", transport=KeptEnvelopes)
    yield KeptEnvelopes.sent
    sentry_sdk.get_client().close()
    sentry_sdk.init()  # no DSN: off again for the rest of the run


def test_an_error_report_keeps_what_failed_where_and_no_personal_data(sent, issue_card_for, db):
    from tests.factories import DriverRecordFactory

    card = issue_card_for(DriverRecordFactory(name=NAME, address=ADDRESS))
    pem = card.certificate.public_bytes(Encoding.PEM).decode()
    der_b64 = base64.b64encode(card.certificate_der).decode()
    number = my_number()
    written = [number, f"{number[:4]} {number[4:8]} {number[8:]}", f"{number[:4]}-{number[4:8]}-{number[8:]}"]
    client = Client(raise_request_exception=False)
    response = client.post(
        f"/fail/?name={NAME}&born={BIRTH_DATES[1]}&number={number}",
        {"born": BIRTH_DATES[0], "certificate": pem, "der": der_b64, "number": written[1], "name": NAME},
    )
    assert response.status_code == 500
    sentry_sdk.flush()
    assert sent, "the error was reported"
    report = "\n".join(_strings(sent))
    planted = [NAME, "山田", "太郎", ROMAN_NAME, "YAMADA", ADDRESS, "霞が関", *BIRTH_DATES, pem[40:120], der_b64[:60],
               *written, number[:8], "1980"]  # fmt: skip
    assert [value for value in planted if value in report] == []
    assert not re.search(r"55\D{1,20}5\D{1,20}17", report), "the 和暦 birthdate's numbers are left in order"
    # Still useful: what failed and where.
    assert "ValueError" in report
    assert "failing_view" in report
    assert "cannot update" in report


def test_nothing_is_sent_without_a_dsn(settings):
    """settings.py starts error tracking only when SENTRY_DSN is set; unset here."""
    assert settings.SENTRY_DSN == ""
    assert sentry_sdk.get_client().transport is None
