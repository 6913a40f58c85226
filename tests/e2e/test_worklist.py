"""The office's worklist in chromium (issue 18, "Worklist and status"): a supervisor sees a
consent waiting for J-LIS with how long, and a submission the relay gave up with its reason in
Japanese, then sends it again after a confirmation. axe finds nothing on either page."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from onestop.demo import DEMO_LOGINS, seed_demo
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)
SUPERVISOR = next(login for login in DEMO_LOGINS if login.username == "supervisor")


def _office_day() -> tuple[object, object]:
    """A consent registered at the supervisor's office two hours ago, still waiting for J-LIS, and
    another whose submission the relay gave up on while J-LIS answered 503."""
    from django.utils import timezone

    from consents.models import Consent
    from driver_records.models import DriverRecord
    from jlis_gateway.models import OutboxKind, OutboxMessage, OutboxStatus
    from onestop.models import Office
    from tests.driver_records.world import consent_for

    office = Office.objects.get(code=SUPERVISOR.office_code)
    waiting_holder, failed_holder = DriverRecord.objects.filter(
        prefecture=office.prefecture, holding_status="licence_card_only"
    ).order_by("number")[:2]
    now = timezone.now()
    waiting = consent_for(waiting_holder, status="pending", created_at=now - timedelta(hours=2))
    failed = consent_for(failed_holder, status="pending", created_at=now)  # today's, in Japan too
    Consent.objects.filter(pk__in=[waiting.pk, failed.pk]).update(office=office)
    OutboxMessage.objects.create(
        kind=OutboxKind.SUBMIT_CONSENT, consent=failed, idempotency_key="e2e-worklist", status=OutboxStatus.FAILED,
        attempts=10, next_attempt_at=now, created_at=now, claimed_at=now,
        last_error="gave up after 10 attempts: POST /v1/consents: HTTP 503 unavailable",
    )  # fmt: skip
    return waiting_holder, failed_holder


def test_supervisor_sees_the_worklist_and_resends_a_given_up_submission(page, screenshot, axe):
    seed_demo()
    waiting_holder, failed_holder = _office_day()
    log_in(page, SUPERVISOR.username, SUPERVISOR.password, SUPERVISOR.totp_key)
    page.get_by_role("navigation").get_by_role("link", name="窓口の業務一覧").click()
    expect(page.get_by_role("heading", name="窓口の業務一覧")).to_be_visible()
    waiting = page.get_by_test_id("worklist-waiting")
    row = waiting.get_by_role("row").filter(has_text=waiting_holder.name)
    expect(row).to_contain_text("2時間")
    failed = page.get_by_test_id("worklist-failed").get_by_role("row").filter(has_text=failed_holder.name)
    expect(failed).to_contain_text("10回試みて送信を断念しました：J-LISが応答しません（HTTP 503）")
    expect(page.get_by_test_id("worklist-registered")).to_contain_text(failed_holder.name)
    screenshot(page, "worklist")
    assert axe(page) == []

    failed.get_by_role("link", name="再送…").click()
    expect(page.get_by_test_id("resend-confirm")).to_be_visible()
    expect(page.get_by_test_id("resend-message")).to_contain_text(failed_holder.number)
    screenshot(page, "worklist-resend")
    assert axe(page) == []
    page.get_by_role("button", name="再送する").click()
    expect(page.get_by_role("heading", name="窓口の業務一覧")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("同じキーでJ-LISへ再送します。")
    expect(page.get_by_text("失敗したJ-LISへの送信はありません。")).to_be_visible()
    assert axe(page) == []

    # Each row leads to the holder.
    page.get_by_test_id("worklist-waiting").get_by_role("link", name=waiting_holder.name).click()
    expect(page.get_by_test_id("identity")).to_contain_text(waiting_holder.number)
