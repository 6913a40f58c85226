"""The holder page as a clerk reads it (issue 18, items 1, 3 and 4): identity first, one
eligibility message with the next step, consents current and past, the J-LIS feed, then the
history in a clerk's words. Expected texts come from the issue and the rules (R1, R4), not
from the page's code."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from applier.batch import events_apply_pending
from consents.models import Consent, ConsentStatus
from driver_records.models import DriverRecord
from driver_records.services import record_update
from tests.factories import DriverRecordFactory

from .world import consent_for, holder, latest_info
from .world import terms as terms_in_effect

pytestmark = pytest.mark.django_db


@pytest.fixture
def terms():
    return terms_in_effect()


def _page(client, record: DriverRecord, *, language: str = "ja") -> str:
    client.cookies["django_language"] = language
    response = client.get(reverse("counter:record", args=[record.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _headings(body: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<h2[^>]*>(.*?)</h2>", body)]


def test_identity_comes_first_then_eligibility_consent_feed_and_history(client, clerk, terms):
    record = DriverRecordFactory(name="髙橋　結衣", birth_date=date(1990, 4, 1))
    client.force_login(clerk)
    body = _page(client, record)
    assert _headings(body)[:5] == ["本人確認", "サービスの対象か", "同意", "J-LISからの自動更新", "変更履歴"]
    identity = body.split('data-testid="identity"')[1].split("</section>")[0]
    assert "平成2年4月1日（1990年4月1日）" in identity
    assert record.address in identity and "東京都" in identity


def test_a_clerk_sees_no_heading_without_content(client, clerk, supervisor, terms):
    record = DriverRecordFactory()
    client.force_login(clerk)
    assert "防御措置・開示請求" not in _page(client, record)
    client.force_login(supervisor)  # a supervisor may propose a measure: the section has content
    assert "防御措置・開示請求" in _page(client, record)


def test_r01_a_two_card_holder_is_refused_once_with_the_next_step_and_never_called_eligible(client, clerk, terms):
    record = DriverRecordFactory(holding_status="licence_both")
    client.force_login(clerk)
    body = _page(client, record)
    assert body.count("マイナ免許証のみの方だけ") == 1  # the refusal, once
    assert "対象です" not in body
    eligibility = body.split('data-testid="eligibility"')[1].split("</div>")[0]
    assert "返納" in eligibility  # what the holder must do: return the plastic licence
    assert "署名する同意文を作成" not in body


def test_r01_an_eligible_holder_is_told_so_once_with_the_next_step(client, clerk, terms):
    record = DriverRecordFactory(holding_status="licence_card_only")
    client.force_login(clerk)
    body = _page(client, record)
    eligibility = body.split('data-testid="eligibility"')[1].split("</div>")[0]
    assert "対象です" in eligibility and "同意文を作成" in eligibility
    assert 'data-testid="start-refusal"' not in body


def test_a_jlis_change_reads_in_a_clerks_words(client, clerk, terms):
    record = holder(serial="S-OLD", name="山田　太郎", address="東京都府中市多磨町３丁目１番地")
    occurred = datetime(2026, 3, 1, 6, 30, tzinfo=UTC)  # 15:30 in Japan
    latest_info(seq=1, old="S-OLD", new="S-NEW", address="東京都新宿区西新宿二丁目８番１号", occurred_at=occurred)
    events_apply_pending()
    client.force_login(clerk)
    body = _page(client, record)
    history = body.split('data-testid="history"')[1].split("</section>")[0]
    assert "J-LIS（自動更新）" in history
    assert "住所" in history and "東京都新宿区西新宿二丁目８番１号" in history
    assert "署名用電子証明書の更新" in history
    details = history.split("<details")[1].split("</details>")[0]  # the particulars, on demand
    assert "S-NEW" in details and "S-OLD" in details
    for raw in ("cert_serial", "cert_issuer_key_id", "cert_not_after", "+00:00", "ev-"):
        assert raw not in history, raw
    # The certificate's last valid moment (2031-05-17 14:59:59 UTC) in Japan's time, 和暦 (2031 is 令和13年).
    assert "令和13年5月17日 23:59" in details


def test_a_counter_change_shows_the_staff_member_labels_and_和暦(client, clerk, terms):
    clerk.first_name, clerk.last_name = "アリス", "窓口"
    clerk.save(update_fields=["first_name", "last_name"])
    record = DriverRecordFactory(holding_status="licence_card_only", birth_date=date(1990, 4, 1))
    record_update(
        record_id=record.pk,
        expected_version=record.version,
        changes={"holding_status": "licence_both", "birth_date": date(1990, 4, 2)},
        actor=clerk,
    )
    client.force_login(clerk)
    history = _page(client, record).split('data-testid="history"')[1].split("</section>")[0]
    assert "保有状況" in history and "マイナ免許証のみ → 2枚持ち" in history
    assert "平成2年4月1日（1990年4月1日） → 平成2年4月2日（1990年4月2日）" in history
    assert clerk.get_full_name() in history
    assert "licence_both" not in history and "1990-04-01" not in history


def test_earlier_consents_stay_listed_with_the_revocations_reason_and_channel(client, clerk, terms):
    record = DriverRecordFactory()
    revoked = consent_for(record, status=ConsentStatus.REVOKED, last_valid_day=date(2035, 12, 30))
    Consent.objects.filter(pk=revoked.pk).update(
        revoked_at=datetime(2026, 2, 1, 1, 0, tzinfo=UTC), revoked_channel="counter", revoked_reason="本人の申出"
    )
    consent_for(record, status=ConsentStatus.ACTIVE, last_valid_day=date(2036, 12, 31))
    client.force_login(clerk)
    past = _page(client, record).split('data-testid="consent-history"')[1].split("</ul>")[0]
    assert revoked.reference in past and "取消済み" in past and "本人の申出" in past
    assert "令和8年2月1日 10:00" in past  # 01:00 UTC in Japan's time, 和暦 (2026 is 令和8年)


def test_the_page_is_complete_in_english(client, clerk, terms):
    record = holder(serial="S-OLD")
    latest_info(seq=1, old="S-OLD", new="S-NEW", address="東京都新宿区西新宿二丁目８番１号")
    events_apply_pending()
    client.force_login(clerk)
    body = _page(client, record, language="en")
    for text in (
        "Identity",
        "Can this holder use the service?",
        "Change history",
        "Next step:",
        "Signing certificate renewed",
        "J-LIS (automatic update)",
    ):
        assert text in body, text
    for japanese in ("本人確認", "変更履歴", "次の手続", "署名用電子証明書の更新"):
        assert japanese not in body, japanese


# Issue 18: "English leaves the holding statuses in Japanese". The Japanese names are the ones the
# terms use (免許証のみ, マイナ免許証のみ, 2枚持ち ...); in English none of them may remain.
HOLDING_STATUS_JA = {
    "licence_plastic_only": "免許証のみ",
    "licence_card_only": "マイナ免許証のみ",
    "licence_both": "2枚持ち",
    "history_plastic_only": "運転経歴証明書のみ",
    "history_card_only": "マイナ経歴証明書のみ",
    "history_both": "運転経歴証明書とマイナ経歴証明書",
}


@pytest.mark.parametrize("status", sorted(HOLDING_STATUS_JA))
def test_the_holding_status_is_shown_in_the_page_language(client, clerk, terms, status):
    kind = "licence" if status.startswith("licence_") else "driving_history"
    record = DriverRecordFactory(kind=kind, holding_status=status)
    client.force_login(clerk)

    def shown(language: str) -> str:
        body = _page(client, record, language=language)
        return re.sub(r"<[^>]+>", "", body.split('data-testid="holding-status">')[1].split("</dd>")[0]).strip()

    assert shown("ja") == HOLDING_STATUS_JA[status]
    english = shown("en")
    assert english and not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", english), english
    # The holding-status form offers the record's statuses in English too.
    form = _page(client, record, language="en").split('name="holding_status"')[1].split("</select>")[0]
    assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", re.sub(r"<[^>]+>", "", form)), form
