"""The receipt and the revoke screen as a clerk reads them: dates in 和暦 with the Western date
beside (the holder keeps the receipt), the holder named before a supervisor revokes, and a
confirmation worded like the others ("はい、…します"). Expected dates are worked by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from consents.models import Consent
from consents.services import consent_reflect

pytestmark = pytest.mark.django_db


def page(client, url: str, data: dict[str, str] | None = None) -> str:
    response = client.post(url, data) if data is not None else client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_receipt_gives_the_registration_moment_in_japan_with_wareki(client, clerk, record, register):
    consent = register(record, ("address",))
    # 2026-03-31 15:30 UTC is 2026-04-01 00:30 in Japan: 令和8年.
    Consent.objects.filter(pk=consent.pk).update(created_at=datetime(2026, 3, 31, 15, 30, tzinfo=UTC))
    client.force_login(clerk)
    client.cookies["django_language"] = "ja"
    receipt = page(client, reverse("consents:receipt", args=[consent.pk]))
    assert "令和8年4月1日（2026年4月1日） 00:30" in receipt
    client.cookies["django_language"] = "en"
    assert "1 April 2026 (Reiwa 8) 00:30 JST" in page(client, reverse("consents:receipt", args=[consent.pk]))


def test_the_revoke_screen_names_the_holder_and_dates_the_consent_in_wareki(client, supervisor, record, register):
    consent = register(record, ("address",))
    consent_reflect(consent_id=consent.pk, consent_date=date(2024, 2, 29))
    client.force_login(supervisor)
    client.cookies["django_language"] = "ja"
    url = reverse("consents:revoke", args=[consent.pk])
    body = page(client, url)
    heading = body.split("<h1>")[1].split("</h1>")[0]
    assert record.name in heading and record.number in heading
    assert "令和6年2月29日（2024年2月29日）" in body
    assert "2024-02-29" not in body
    assert "例：" in body  # the reason has an example, as the withdrawal's has

    confirm = page(client, url, {"reason": "本人の申出"})
    assert "はい、同意を取り消します" in confirm
    assert record.name in confirm.split('data-testid="revoke-confirm"')[1].split("</div>")[0]
