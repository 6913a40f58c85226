"""Attack 31: the idempotency key as a free-text field that is kept.

Every POST of the counter carries a key (a hidden form field, or the API's Idempotency-Key
header), and the answer is kept under it for its repeats. The key is whatever the client sends
in the shape of 8-128 letters, digits and -_.: — which includes twelve digits. R14: no My Number
is kept anywhere, whoever types it and in whichever field; the personal-data map says the key
column holds none."""

from __future__ import annotations

import pytest
from django.urls import reverse

from driver_records.models import DriverRecord
from tests.conftest import StaffClient
from tests.factories import DriverRecordFactory

from .r14_text import with_check_digit
from .test_r14_nothing_kept import _columns_holding

pytestmark = pytest.mark.django_db

MY_NUMBER = with_check_digit("97531864200")


def _holding_change(client: StaffClient, record: DriverRecord, key: str):
    return client.post(
        reverse("counter:holding-status", args=[record.pk]),
        {
            "version": record.version,
            "holding_status": "licence_both",
            "reason": "本人の申出により交付",
            "confirmed": "1",
            "idempotency_key": key,
        },
    )


def test_a_my_number_sent_as_the_idempotency_key_is_not_kept(clerk):
    record = DriverRecordFactory()
    client = StaffClient()
    client.force_login(clerk)
    first = _holding_change(client, record, MY_NUMBER)
    assert first.status_code == 302
    assert _columns_holding(MY_NUMBER) == []
    # The key still does its work: the repeat gets the first answer and changes nothing twice.
    again = _holding_change(client, record, MY_NUMBER)
    assert again["Idempotent-Replayed"] == "true"
    assert (again.status_code, again["Location"]) == (first.status_code, first["Location"])
    assert DriverRecord.objects.get(pk=record.pk).version == record.version + 1


def test_a_my_number_sent_in_the_idempotency_key_header_is_not_kept(clerk, settings):
    """The API's header: a statement for a holder is refused without terms (R17), an answer that
    is kept like any other; the key must not be."""
    record = DriverRecordFactory()
    client = StaffClient()
    client.force_login(clerk)
    body = {"record_id": record.pk, "items": ["address"]}
    first = client.post(
        reverse("api:statements"), body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=MY_NUMBER
    )
    assert first.status_code == 422
    again = client.post(
        reverse("api:statements"), body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=MY_NUMBER
    )
    assert again["Idempotent-Replayed"] == "true"
    assert _columns_holding(MY_NUMBER) == []
