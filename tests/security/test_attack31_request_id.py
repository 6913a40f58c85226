"""Attack 31: the X-Request-ID header as a way to write into the audit trail and the logs.

The request id names a request in every log line and in every audit row it writes
(docs/security.md). The audit trail is append-only: what lands in it stays for good, and R15's
erasure cannot reach it. A client that chooses the id therefore chooses text kept for good: a
My Number (R14: never kept, anywhere), a holder's name and birthdate, or the id of another
person's request, so that the trail ties their acts together. The id may come from the TLS
proxy in front (ONESTOP_TRUSTED_PROXIES), which makes it, never from whoever is on the other
end of the connection; and a My Number is never kept, whoever sends it."""

from __future__ import annotations

import json
import logging

import pytest
from django.urls import reverse

from onestop.models import AuditEvent
from tests.conftest import StaffClient
from tests.factories import DriverRecordFactory

from .r14_text import with_check_digit

pytestmark = pytest.mark.django_db

MY_NUMBER = with_check_digit("12345678901")  # twelve digits with the ordinance's check digit
HOLDER_WORDS = "yamada.taro.1980-05-17"  # a holder's name and birthdate, as a client could write them
PROXY_ID = "5f0c6a8e2b9d4c1e8a7b3f2d1c0e9a8b"  # a proxy's random id (nginx's $request_id)


def _holder_page(clerk, request_id: str, **extra):
    record = DriverRecordFactory()
    client = StaffClient()
    client.force_login(clerk)
    response = client.get(reverse("counter:record", args=[record.pk]), HTTP_X_REQUEST_ID=request_id, **extra)
    assert response.status_code == 200
    return response, AuditEvent.objects.get(action="record.view", subject_id=str(record.pk))


def _logged(records: list[logging.LogRecord], text: str) -> list[str]:
    found = []
    for record in records:
        values = [record.getMessage(), json.dumps(record.__dict__, default=str)]
        if any(text in value for value in values):
            found.append(record.name)
    return found


@pytest.mark.parametrize("sent", [MY_NUMBER, HOLDER_WORDS], ids=["my-number", "name-and-birthdate"])
def test_a_client_cannot_write_its_own_request_id_into_the_audit_trail_or_the_logs(clerk, every_log, sent):
    response, row = _holder_page(clerk, sent)
    assert row.request_id != sent
    assert response["X-Request-ID"] == row.request_id  # the id the request was given instead
    assert _logged(every_log, sent) == []


def test_a_trusted_proxys_request_id_names_the_request(clerk, settings):
    """The control: the proxy's own id is kept, so its log and ours can be read together."""
    settings.TRUSTED_PROXIES = ["127.0.0.1"]  # the test client's peer
    response, row = _holder_page(clerk, PROXY_ID)
    assert row.request_id == PROXY_ID == response["X-Request-ID"]


def test_a_my_number_is_not_kept_even_from_a_trusted_proxy(clerk, settings):
    """A proxy may pass on what its client sent: R14 holds whoever sends it."""
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    _response, row = _holder_page(clerk, MY_NUMBER)
    assert row.request_id != MY_NUMBER
