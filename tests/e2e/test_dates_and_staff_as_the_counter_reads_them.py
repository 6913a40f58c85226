"""Dates and staff as counter staff read them, in chromium at 1280 and 800 px.

- The disclosure request's dates (form received, fee paid, answer sent) are typed as the paper
  form in front of the supervisor gives them: 和暦 or Western, in a text box. The browser's own
  date input took neither (chromium shows MM/DD/YYYY, with no era).
- The lists and steps under a 和暦 heading give their moments in 和暦 too (the worklist's day is
  令和…; its rows said 2026年…).
- Staff are named by the full name set for them (the change history already did), family name
  first as a Japanese name is written; the username only when no name is set.

Expected dates are written out from the era rule (令和 year = Western year - 2018, from 2019-05-01),
not from the page's own formatting."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from onestop.clock import japan_today
from onestop.demo import seed_demo
from onestop.models import User
from tests.e2e.test_consent_journeys import as_user, open_holder, tokyo_card_holder

pytestmark = pytest.mark.django_db(transaction=True)
WIDTHS = [1280, 800]


def reiwa(day: date) -> str:
    assert day >= date(2019, 5, 1)
    return f"令和{'元' if day.year == 2019 else day.year - 2018}年{day.month}月{day.day}日"


def both(day: date) -> str:
    return f"{reiwa(day)}（{day.year}年{day.month}月{day.day}日）"


# As a Japanese name is written: family name first, an ideographic space (the holders' names too).
SUPERVISOR_NAME = "責任\u3000花子"


def named(username: str, family: str, given: str) -> User:
    user = User.objects.get(username=username)
    user.last_name, user.first_name = family, given
    user.save(update_fields=["last_name", "first_name"])
    return user


@pytest.mark.parametrize("width", WIDTHS)
def test_a_supervisor_types_a_disclosure_s_dates_in_wareki_and_reads_who_did_each_step(
    page, live_server, screenshot, axe, width
):
    seed_demo()
    supervisor = named("supervisor", "責任", "花子")
    record = tokyo_card_holder()
    page.set_viewport_size({"width": width, "height": 900})
    as_user(page, "supervisor")
    expect(page.locator("header .who")).to_contain_text(SUPERVISOR_NAME)
    open_holder(page, record)
    page.get_by_role("link", name="開示請求を登録する").click()
    received = page.get_by_label("請求書の受付日")
    expect(received).to_have_attribute("type", "text")  # not the browser's MM/DD/YYYY box
    expect(received).to_have_value(reiwa(japan_today()))  # today, as the form's date is written
    received_day, paid_day = japan_today() - timedelta(days=4), japan_today() - timedelta(days=2)
    page.get_by_label("本人", exact=True).check()
    page.get_by_label("請求者の氏名（請求書の記載どおり）").fill(record.name)
    received.fill(reiwa(received_day))
    screenshot(page, f"ux32-disclosure-new-{width}")
    assert axe(page) == []
    page.get_by_role("button", name="登録する").click()
    steps = page.get_by_test_id("disclosure-steps")
    expect(steps).to_contain_text(both(received_day))
    expect(steps).to_contain_text(SUPERVISOR_NAME)
    expect(steps).not_to_contain_text(supervisor.get_username())

    page.get_by_label("確認した本人確認書類").select_option(label="旅券")
    page.get_by_role("button", name="この手続を記録する").click()
    expect(page.get_by_test_id("disclosure-status")).to_have_text("本人確認済み")
    expect(steps).to_contain_text(reiwa(japan_today()))  # when the identity was checked: 和暦
    page.get_by_label("受領した手数料（円）").fill("300")
    page.get_by_label("領収番号").fill("R-2026-0001")
    paid = page.get_by_label("納付日")
    paid.fill("令和99年13月1日")  # no such day: said so, and nothing recorded
    page.get_by_role("button", name="この手続を記録する").click()
    expect(page.get_by_role("alert")).to_contain_text("令和8年4月1日")
    expect(page.get_by_test_id("disclosure-status")).to_have_text("本人確認済み")
    paid.fill(f"R{paid_day.year - 2018}.{paid_day.month}.{paid_day.day}")
    page.get_by_role("button", name="この手続を記録する").click()
    expect(page.get_by_test_id("disclosure-status")).to_have_text("手数料納付済み")
    expect(steps).to_contain_text(both(paid_day))
    screenshot(page, f"ux32-disclosure-steps-{width}")
    assert axe(page) == []


def test_in_english_the_disclosure_date_takes_a_western_date(page, live_server):
    seed_demo()
    record = tokyo_card_holder()
    as_user(page, "supervisor")
    page.get_by_label("言語").select_option("en")
    page.get_by_role("button", name="切替").click()
    page.goto(f"/counter/safeguards/records/{record.pk}/disclosures/new/")
    received = page.get_by_label("Form received on")
    expect(received).to_have_attribute("type", "text")
    day = japan_today() - timedelta(days=3)
    page.get_by_label("The holder", exact=True).check()
    page.get_by_label("Requester's name (as written on the form)").fill(record.name)
    received.fill(day.isoformat())
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_test_id("disclosure-steps")).to_contain_text(
        f"{day.day} {day:%B} {day.year} (Reiwa {day.year - 2018})"
    )
    # The username, no full name being set for this supervisor.
    expect(page.get_by_test_id("disclosure-steps")).to_contain_text("supervisor")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_lists_under_a_wareki_heading_give_their_moments_in_wareki_and_staff_by_name(
    page, live_server, screenshot, width
):
    from safeguards.services import suspension_propose

    seed_demo()
    proposer = named("supervisor", "責任", "花子")
    record = tokyo_card_holder()
    suspension_propose(
        record_id=record.pk, actor=proposer, reason_code="not_the_holder", grounds="suspected", note="本人以外が来庁"
    )
    page.set_viewport_size({"width": width, "height": 900})
    as_user(page, "supervisor2")
    page.goto("/counter/safeguards/")
    waiting = page.get_by_test_id("suspensions-waiting")
    expect(waiting).to_contain_text(reiwa(japan_today()))
    expect(waiting).not_to_contain_text(f"{japan_today().year}年")
    expect(waiting).to_contain_text(SUPERVISOR_NAME)
    screenshot(page, f"ux32-safeguards-home-{width}")
