"""A holder asks a clerk to revoke their consent: only a supervisor revokes (DOMAIN.md, roles),
and the holder page said nothing to the clerk, who saw no way to do it. It now says who does,
where a supervisor sees the link. Chromium, in Japanese and in English."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from driver_records.models import DriverRecord
from onestop.demo import seed_demo
from tests.driver_records.world import consent_for
from tests.e2e.test_consent_journeys import as_user, open_holder, tokyo_card_holder

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_holder_page_tells_a_clerk_that_a_supervisor_revokes(page, live_server):
    seed_demo()
    record = tokyo_card_holder()
    DriverRecord.objects.filter(pk=record.pk).update(cert_serial="E2E-REVOKE-0001")
    consent_for(DriverRecord.objects.get(pk=record.pk), status="active")
    as_user(page, "clerk")
    open_holder(page, record)
    expect(page.get_by_test_id("consent-state")).to_have_text("有効")
    expect(page.get_by_role("link", name="この同意を取り消す")).to_have_count(0)
    expect(page.get_by_test_id("revoke-by-supervisor")).to_contain_text("責任者")

    page.get_by_label("言語").select_option("en")
    page.get_by_role("button", name="切替").click()
    expect(page.get_by_test_id("revoke-by-supervisor")).to_contain_text("supervisor")
