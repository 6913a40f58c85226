"""The consented items as a list in each language: 住所、氏名、生年月日 in Japanese; in English
"Address, Name, Date of birth" (the English receipt joined them with the Japanese comma 、)."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_receipt_lists_the_items_with_each_language_s_separator(client, clerk, record, register):
    consent = register(record, ("address", "name", "birth_date"))
    client.force_login(clerk)
    url = reverse("consents:receipt", args=[consent.pk])
    client.cookies["django_language"] = "en"
    english = client.get(url).content.decode()
    assert "Address, Name, Date of birth" in english
    assert "、" not in english.split('<article class="receipt"')[1].split("</article>")[0]
    client.cookies["django_language"] = "ja"
    assert "住所、氏名、生年月日" in client.get(url).content.decode()
