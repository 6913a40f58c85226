"""The holder page and the search at a clerk's screen widths (issue 18): nothing scrolls sideways
at 1280 or 800 pixels, with the certificate's particulars opened too, and axe finds nothing."""

from __future__ import annotations

from urllib.parse import unquote_plus

import pytest
from playwright.sync_api import expect

from applier.batch import events_apply_pending
from onestop.demo import seed_demo
from tests.driver_records.world import holder, latest_info
from tests.e2e.test_consent_journeys import as_user

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = (1280, 800)
# A signing certificate's serial as J-LIS gives it (the issue saw 48 digits), and a long address.
OLD_SERIAL = "4" * 48
NEW_SERIAL = "5" * 48
LONG_ADDRESS = "東京都西多摩郡奥多摩町日原一丁目二番地三号　奥多摩ハイツ東棟一二三四号室（日原鍾乳洞入口前）"


def _fits(page) -> tuple[int, int]:
    return page.evaluate("[document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]")


def _a_holder_with_history():
    record = holder(serial=OLD_SERIAL, name="渡邊　千尋", prefecture="13", address="東京都府中市多磨町３丁目１番地")
    latest_info(seq=1, old=OLD_SERIAL, new=NEW_SERIAL, address=LONG_ADDRESS)
    events_apply_pending()
    return record


def test_holder_page_fits_1280_and_800_pixels_and_axe_finds_nothing(page, axe, screenshot, live_server):
    seed_demo()
    record = _a_holder_with_history()
    as_user(page, "clerk")
    page.get_by_label("免許証番号等または氏名").fill("渡辺　千尋")
    page.keyboard.press("Enter")
    page.get_by_role("link", name="渡邊　千尋").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(record.number)
    expect(page.get_by_test_id("history")).to_contain_text("J-LIS（自動更新）")
    page.get_by_text("署名用電子証明書の更新").click()  # the particulars, on demand
    expect(page.get_by_test_id("certificate-change")).to_contain_text(NEW_SERIAL)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        scroll_width, client_width = _fits(page)
        assert scroll_width <= client_width, f"{width}px: {scroll_width} > {client_width}"
        assert axe(page) == [], width
    screenshot(page, "17-holder-page-800px")


def test_search_results_fit_1280_and_800_pixels_and_axe_finds_nothing(page, axe, screenshot, live_server):
    seed_demo()
    _a_holder_with_history()
    as_user(page, "clerk")
    page.get_by_label("免許証番号等または氏名").fill("渡辺")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("search-results")).to_contain_text("渡邊　千尋")
    expect(page.get_by_test_id("search-results")).to_contain_text("平成")
    assert "渡辺" not in unquote_plus(page.url)  # the browser's history keeps nothing typed
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        scroll_width, client_width = _fits(page)
        assert scroll_width <= client_width, f"{width}px: {scroll_width} > {client_width}"
        assert axe(page) == [], width
    screenshot(page, "02-search-results")


def test_the_header_keeps_who_is_signed_in_and_the_language_together_for_a_supervisor(page, live_server):
    """A supervisor's menu is the longest: at 1280 and 800 pixels the language switch stays beside
    who is signed in, at the right (it wrapped alone to the left under the menu), and nothing
    scrolls sideways."""
    seed_demo()
    as_user(page, "supervisor")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        who = page.locator("header.site .who").bounding_box()
        switch = page.get_by_role("button", name="切替").bounding_box()
        assert who and switch
        assert abs((who["y"] + who["height"] / 2) - (switch["y"] + switch["height"] / 2)) < switch["height"] / 2
        assert switch["x"] > who["x"] and switch["x"] + switch["width"] > width * 0.9  # at the right
        assert _fits(page)[0] <= _fits(page)[1]
