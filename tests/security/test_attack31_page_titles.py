"""Attack 31: a holder's personal data in page titles.

Counter PCs are shared (docs/security.md: every answer is no-store). A page's title outlives the
page and the session: the browser keeps it in its history, its tab list and its session restore,
where the next person at the PC reads it. So a title names no holder: not their name, not their
record number (both personal data, docs/personal-data.md), and nothing else of them."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from onestop.permission_matrix import Principal
from onestop.wareki import wareki

pytestmark = pytest.mark.django_db


def _title(html: str) -> str:
    match = re.search(r"<title>(.*?)</title>", html, re.DOTALL)
    assert match, "the page has a title"
    return match.group(1)


def _holder_values(record) -> dict[str, str]:
    return {
        "name": record.name,
        "name without spaces": record.name.replace("\u3000", ""),
        "record number": record.number,
        "address": record.address,
        "birth date": record.birth_date.isoformat(),
        "birth date (和暦)": wareki(record.birth_date),
    }


@pytest.mark.parametrize("principal", [Principal.CLERK, Principal.AUDITOR])
def test_the_holder_pages_title_names_no_holder(world, principal):
    page = world.client(principal).get(reverse("counter:record", args=[world.record.pk]))
    assert page.status_code == 200
    title = _title(page.content.decode())
    assert [what for what, value in _holder_values(world.record).items() if value in title] == []


def test_the_title_of_another_prefectures_holder_page_names_no_holder(world):
    osaka = world.elsewhere.record
    page = world.client(Principal.CLERK).get(reverse("counter:record", args=[osaka.pk]))
    assert page.status_code == 200 and osaka.name in page.content.decode()  # the directory: where to go
    title = _title(page.content.decode())
    assert [what for what, value in _holder_values(osaka).items() if value in title] == []
