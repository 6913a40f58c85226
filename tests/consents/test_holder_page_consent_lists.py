"""What the holder page lists of a record's consents, from one read of them all: the governing one
(R6: the active one, else the latest registered that is neither superseded, rejected nor
withdrawn), those waiting for J-LIS, those J-LIS refused after the governing one was registered,
and the consent history (every other consent that waits for nothing, newest first, ten at most).
Expected values come from those rules, written out per consent below, and are read off the page
as the clerk sees it."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from consents.models import Consent, ConsentStatus
from consents.selectors import consent_status
from tests.driver_records.world import consent_for, holder

pytestmark = pytest.mark.django_db


def _section(page: str, testid: str) -> list[str]:
    """The consent references listed in the page's part named by `testid`, in page order."""
    found = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</(ul|dl)>', page, re.S)
    return re.findall(r"T-\d{6}", found.group(1)) if found else []


def _page(client, record) -> str:
    response = client.get(reverse("counter:record", args=[record.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _refs(consents: list[Consent]) -> list[str]:
    return [c.reference for c in consents]


def test_every_kind_of_consent_is_listed_where_the_rules_put_it(client, clerk, supervisor):
    record = holder(serial="HP-1", status=ConsentStatus.SUPERSEDED, prefecture="13")
    superseded = record.consents.get()
    revoked = consent_for(record, status=ConsentStatus.REVOKED)
    refused_before = consent_for(record, status=ConsentStatus.REJECTED)
    active = consent_for(record, status=ConsentStatus.ACTIVE)
    refused_after = consent_for(record, status=ConsentStatus.REJECTED)
    waiting = consent_for(record, status=ConsentStatus.PENDING)
    withdrawn = consent_for(record, status=ConsentStatus.WITHDRAWN)
    Consent.objects.filter(pk=superseded.pk).update(superseded_by=active)
    Consent.objects.filter(pk=withdrawn.pk).update(
        withdrawn_at=timezone.now(), withdrawn_by=supervisor, withdrawn_reason="選択の誤り"
    )
    client.force_login(clerk)
    page = _page(client, record)

    assert _section(page, "consent-status") == [active.reference]  # R6: the active one governs
    assert _section(page, "pending-consents") == [waiting.reference]
    assert _section(page, "rejected") == [refused_after.reference]  # registered after the governing one
    history = _section(page, "consent-history")
    # Newest first; every consent but the governing one and the one still waiting. The superseded
    # one says which consent superseded it, the withdrawn one who withdrew it.
    assert history == _refs([withdrawn, refused_after, refused_before, revoked, superseded, active])
    listed = page[page.index('data-testid="consent-history"') :]
    assert f"{active.reference}により置き換え" in listed
    who = supervisor.get_full_name() or supervisor.get_username()
    assert f"に {who} が受付を取下げ" in listed and "選択の誤り" in listed


def test_without_an_active_consent_the_latest_that_may_govern_is_shown_and_not_listed_again(client, clerk):
    record = holder(serial="HP-2", status=ConsentStatus.REVOKED, prefecture="13")
    revoked = record.consents.get()
    waiting = consent_for(record, status=ConsentStatus.PENDING)
    refused = consent_for(record, status=ConsentStatus.REJECTED)  # never governs
    client.force_login(clerk)
    page = _page(client, record)

    assert _section(page, "consent-status") == [waiting.reference]  # the latest that may govern
    assert _section(page, "pending-consents") == []  # it is the governing one, shown above
    assert _section(page, "rejected") == [refused.reference]
    assert _section(page, "consent-history") == _refs([refused, revoked])


def test_the_history_shows_the_ten_newest_and_the_status_the_same_as_the_page(client, clerk):
    record = holder(serial="HP-3", status=ConsentStatus.ACTIVE, prefecture="13")
    active = record.consents.get()
    older = [consent_for(record, status=ConsentStatus.REVOKED) for _ in range(12)]
    waiting = [consent_for(record, status=ConsentStatus.PENDING) for _ in range(2)]
    client.force_login(clerk)
    page = _page(client, record)

    assert _section(page, "consent-status") == [active.reference]
    assert _section(page, "consent-history") == _refs(older[::-1][:10])
    assert _section(page, "pending-consents") == _refs(waiting[::-1])
    # The API's view of the same record (consent_status read afresh, nothing kept on the record).
    status = consent_status(record=record)
    assert (status.current, _refs(status.pending), _refs(status.past)) == (
        active,
        _refs(waiting[::-1]),
        _refs(older[::-1][:10]),
    )
