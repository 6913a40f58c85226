"""The holder page's next step follows the holder's consent, as a clerk reads it: with a consent
waiting for J-LIS the clerk hands over the receipt and waits (registering again is only for other
items, R6); with a consent in force there is nothing to do. And the Mynaportal linkage says when
it can be recorded: it needs the signing certificate J-LIS links once it reflects a consent (R13)."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from consents.models import ConsentStatus
from driver_records.models import DriverRecord
from tests.factories import DriverRecordFactory

from .world import consent_for, holder
from .world import terms as terms_in_effect

pytestmark = pytest.mark.django_db


@pytest.fixture
def terms():
    return terms_in_effect()


def _section(client, record: DriverRecord, testid: str, *, language: str = "ja") -> str:
    client.cookies["django_language"] = language
    body = client.get(reverse("counter:record", args=[record.pk])).content.decode()
    return body.split(f'data-testid="{testid}"')[1].split("</div>")[0]


def test_with_a_consent_waiting_for_jlis_the_next_step_is_the_receipt_not_another_statement(client, clerk, terms):
    record = DriverRecordFactory(holding_status="licence_card_only")
    waiting = consent_for(record, status=ConsentStatus.PENDING)
    client.force_login(clerk)
    eligibility = _section(client, record, "eligibility")
    assert "対象です" in eligibility
    assert "同意文を作成してください" not in eligibility
    assert "反映待ち" in eligibility and waiting.reference in eligibility and "受付票" in eligibility
    english = _section(client, record, "eligibility", language="en")
    assert "waiting for J-LIS" in english and "receipt" in english


def test_with_a_consent_in_force_there_is_no_next_step_but_changing_the_items(client, clerk, terms):
    record = holder(serial="S-1", last_valid_day=date(2035, 12, 31))
    client.force_login(clerk)
    eligibility = _section(client, record, "eligibility")
    assert "同意文を作成してください" not in eligibility
    assert "同意は有効です" in eligibility and "事項を変える" in eligibility
    assert "in force" in _section(client, record, "eligibility", language="en")


def test_without_a_consent_the_next_step_is_still_the_statement(client, clerk, terms):
    record = DriverRecordFactory(holding_status="licence_card_only")
    client.force_login(clerk)
    assert "同意文を作成してください" in _section(client, record, "eligibility")


def test_mynaportal_linkage_says_when_it_can_be_recorded(client, clerk, terms):
    record = DriverRecordFactory(holding_status="licence_card_only", cert_serial="")
    client.force_login(clerk)
    client.cookies["django_language"] = "ja"
    body = client.get(reverse("counter:record", args=[record.pk])).content.decode()
    section = body.split("マイナポータル連携</h3>")[1].split("</section>")[0]
    assert "マイナポータル連携を記録" not in section  # no form yet
    assert "同意をJ-LISが反映した後に記録できます" in section  # says when it can be


@pytest.mark.parametrize(
    ("status", "tone"),
    [
        (ConsentStatus.PENDING, "waiting"),  # on its way: nothing for the clerk to put right
        (ConsentStatus.ACTIVE, "ok"),
        (ConsentStatus.REVOKED, "refused"),
    ],
)
def test_the_feed_is_marked_as_an_alarm_only_when_it_is_stopped(client, clerk, terms, status: str, tone: str):
    """A consent waiting for J-LIS's reflection is the ordinary state after a registration: the
    feed's badge shows it as on its way, not in the stopped red a revoked consent gets."""
    record = DriverRecordFactory(holding_status="licence_card_only", prefecture=clerk.office.prefecture)
    consent_for(record, status=status, last_valid_day=date(2035, 12, 31))
    client.force_login(clerk)
    body = client.get(reverse("counter:record", args=[record.pk])).content.decode()
    badge = body.split('data-testid="feed-state"')[0].rsplit("<p", 1)[1]
    assert f"badge {tone}" in badge
