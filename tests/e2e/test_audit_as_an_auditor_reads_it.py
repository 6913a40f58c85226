"""The audit trail as an auditor reads it in the admin, in chromium at 1280 and 800 px.

Every column of the list is in sight without scrolling sideways (the admin's model menu took a
third of the width: at 800 px only the sequence number and the time were in sight), and the
filters name the actions and subjects in words, as the list's own column does, not by the codes
the trail stores (auth.second_factor_verified, driver_record)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from onestop.demo import seed_demo
from tests.e2e.test_consent_journeys import as_user, open_holder, tokyo_card_holder

pytestmark = pytest.mark.django_db(transaction=True)
COLUMNS = ["通番", "日時", "操作者", "所属", "操作", "対象種別", "対象ID", "免許証番号等"]
COLUMNS_EN = [
    "Sequence number", "Occurred at", "Actor", "Office", "What happened", "Subject type", "Subject id", "Record number",
]  # fmt: skip


@pytest.mark.parametrize("width", [1280, 800])
def test_an_auditor_reads_every_column_and_filters_by_words(page, live_server, screenshot, axe, width):
    seed_demo()
    record = tokyo_card_holder()
    as_user(page, "clerk")
    open_holder(page, record)  # audited: the holder page was read
    page.get_by_role("button", name="ログアウト").click()
    page.set_viewport_size({"width": width, "height": 900})
    as_user(page, "auditor")
    page.goto("/admin/onestop/auditevent/")
    for column in COLUMNS:
        expect(page.get_by_role("columnheader", name=column, exact=True)).to_be_in_viewport()
    filters = page.locator("#changelist-filter")
    expect(filters.get_by_role("link", name="二要素認証の確認")).to_be_visible()
    expect(filters).not_to_contain_text("auth.second_factor_verified")
    expect(filters).not_to_contain_text("driver_record")
    expect(filters.get_by_role("link", name="運転者記録")).to_be_visible()
    filters.get_by_role("link", name="保有者ページの閲覧").click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(record.number)
    expect(rows.first).to_contain_text("保有者ページの閲覧")
    screenshot(page, f"ux32-audit-{width}")

    # In English too, whose dates and headings are longer.
    page.evaluate("document.cookie = 'django_language=en; path=/'")
    page.reload()
    for column in COLUMNS_EN:
        expect(page.get_by_role("columnheader", name=column, exact=True)).to_be_in_viewport()
    screenshot(page, f"ux32-audit-en-{width}")
