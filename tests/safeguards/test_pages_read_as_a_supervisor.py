"""The supervisors' pages as a supervisor reads them (R15, R16): the holder named beside the
record number (a second supervisor decides about a person, not a number), dates in a Japanese
clerk's form rather than ISO, 和暦 on the answer the holder receives, and the disclosure's next
step named. Expected dates are worked by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from safeguards.models import SuspensionRequest

from .test_disclosure import paid, register
from .test_views import page, proposal_for

pytestmark = pytest.mark.django_db


def test_a_suspension_names_the_holder_and_dates_the_proposal_in_japanese(client, suspect, supervisor):
    proposal = proposal_for(suspect.record, supervisor)
    # 2026-03-31 15:30 UTC is 2026-04-01 00:30 in Japan.
    SuspensionRequest.objects.filter(pk=proposal.pk).update(proposed_at=datetime(2026, 3, 31, 15, 30, tzinfo=UTC))
    client.force_login(supervisor)
    client.cookies["django_language"] = "ja"
    detail = page(client, reverse("safeguards:suspension", args=[proposal.pk]))
    facts = detail.split('data-testid="suspension-facts"')[1].split("</dl>")[0]
    assert suspect.record.name in facts and suspect.record.number in facts
    # 令和8年 is 2026 (令和元年 is 2019): the era as on the rest of the page.
    assert "令和8年4月1日 00:30" in facts and "2026-04-01" not in facts
    assert "令和8年4月1日 00:30" in page(client, reverse("safeguards:home"))
    propose = page(client, reverse("safeguards:suspension-propose", args=[suspect.record.pk]))
    assert suspect.record.name in propose.split("<h1>")[1].split("</h1>")[0]


def test_a_disclosure_request_names_the_holder_its_next_step_and_dates_in_wareki(client, suspect, supervisor):
    request = register(suspect.record, supervisor)  # the form received on 2026-11-20
    client.force_login(supervisor)
    client.cookies["django_language"] = "ja"
    detail = page(client, reverse("safeguards:disclosure", args=[request.pk]))
    assert suspect.record.name in detail
    assert "令和8年11月20日（2026年11月20日）" in detail and "2026-11-20" not in detail
    assert "次の手続：本人確認を記録する" in detail
    new = page(client, reverse("safeguards:disclosure-new", args=[suspect.record.pk]))
    assert suspect.record.name in new.split("<h1>")[1].split("</h1>")[0]


def test_the_answer_to_the_holder_gives_dates_in_wareki(client, suspect, supervisor):
    request = paid(suspect.record, supervisor)
    client.force_login(supervisor)
    client.cookies["django_language"] = "ja"
    report = page(client, reverse("safeguards:disclosure-report", args=[request.pk]))
    assert "昭和50年1月2日（1975年1月2日）" in report  # the holder's birth date
    assert "令和8年11月20日（2026年11月20日）" in report  # the form received on
    assert "1975-01-02" not in report and "2026-11-20" not in report
