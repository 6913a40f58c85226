"""After an action on the holder page's Mynaportal linkage, the clerk lands back at that section
with what the action did, not at the top of a long page (the linkage sits below the identity,
the eligibility and the consent: at 800 px and more it is out of sight from the top).

Chromium, a viewport shorter than the page, at 1280 and 800 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from driver_records.models import DriverRecord
from onestop.demo import seed_demo
from tests.driver_records.world import consent_for
from tests.e2e.test_consent_journeys import as_user, open_holder, tokyo_card_holder

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("width", [1280, 800])
def test_the_mynaportal_linkage_answers_where_the_clerk_acted(page, live_server, screenshot, axe, width):
    seed_demo()
    record = tokyo_card_holder()
    # J-LIS reflected a consent of this holder and linked their signing certificate.
    DriverRecord.objects.filter(pk=record.pk).update(cert_serial="E2E-MYNA-0001")
    consent_for(DriverRecord.objects.get(pk=record.pk), status="active")
    page.set_viewport_size({"width": width, "height": 600})
    as_user(page, "clerk")
    open_holder(page, record)
    section = page.get_by_role("heading", name="マイナポータル連携", exact=True)
    record_link = page.get_by_role("button", name="マイナポータル連携を記録")

    page.get_by_label("ご本人がマイナポータル連携の手続を完了した").check()
    record_link.click()
    page.wait_for_load_state()
    expect(page.get_by_test_id("mynaportal-link")).to_contain_text("E2E-MYNA-0001")
    expect(section).to_be_in_viewport()
    expect(page.get_by_text("マイナポータル連携を記録しました。")).to_be_in_viewport()
    screenshot(page, f"ux32-mynaportal-linked-{width}")
    assert axe(page) == []
