"""Starting a consent: who may (R1, R4), what they choose (R2), under which terms (R17)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from consents.errors import ConsentRefused
from consents.models import ConsentStatement, TermsVersion
from consents.services import statement_create
from driver_records.models import HoldingStatus
from onestop.models import AuditEvent
from tests.factories import DriverRecordFactory

pytestmark = pytest.mark.django_db


def refusal(**kwargs) -> ConsentRefused:
    with pytest.raises(ConsentRefused) as caught:
        statement_create(**kwargs)
    return caught.value


@pytest.mark.parametrize(
    ("holding_status", "kind", "reason"),
    [
        (HoldingStatus.LICENCE_BOTH, "licence", "2枚持ち"),
        (HoldingStatus.LICENCE_PLASTIC_ONLY, "licence", "免許証のみ"),
        (HoldingStatus.HISTORY_BOTH, "driving_history", "マイナ経歴証明書のみ"),
        (HoldingStatus.HISTORY_PLASTIC_ONLY, "driving_history", "運転経歴証明書のみ"),
    ],
)
def test_r01_ineligible_holder_is_refused_with_the_reason(clerk, terms, holding_status, kind, reason):
    record = DriverRecordFactory(kind=kind, holding_status=holding_status)
    refused = refusal(record_id=record.pk, items=["address"], actor=clerk)
    assert refused.code == "not_eligible"
    assert reason in refused.message
    assert not ConsentStatement.objects.exists()


@pytest.mark.parametrize("holding_status", [HoldingStatus.LICENCE_CARD_ONLY, HoldingStatus.HISTORY_CARD_ONLY])
def test_r01_card_only_holders_may_start(clerk, terms, holding_status):
    kind = "licence" if holding_status.startswith("licence") else "driving_history"
    record = DriverRecordFactory(kind=kind, holding_status=holding_status)
    assert statement_create(record_id=record.pk, items=["address"], actor=clerk).record == record


def test_r02_statement_names_exactly_the_chosen_items(clerk, terms, record):
    statement = statement_create(record_id=record.pk, items=["birth_date", "address"], actor=clerk)
    assert statement.items == ["address", "birth_date"]  # canonical order
    assert "同意する事項: 住所、生年月日\n" in statement.text
    assert "氏名" not in statement.text.split("同意する事項: ")[1].split("\n")[0]


@pytest.mark.parametrize(("items", "code"), [([], "no_items"), (["address", "my_number"], "unknown_item")])
def test_r02_at_least_one_known_item(clerk, terms, record, items, code):
    assert refusal(record_id=record.pk, items=items, actor=clerk).code == code
    assert not ConsentStatement.objects.exists()


def test_r04_clerk_of_another_prefecture_is_refused(clerk, osaka_office, terms):
    osaka_holder = DriverRecordFactory(prefecture="27", address="大阪府門真市一番町２３番１６号")
    refused = refusal(record_id=osaka_holder.pk, items=["address"], actor=clerk)
    assert refused.code == "wrong_prefecture"
    assert "住所地" in refused.message
    assert not ConsentStatement.objects.exists()


def test_r17_statement_is_made_under_the_latest_terms_in_effect(clerk, record):
    TermsVersion.objects.create(version="2025.1", effective_date=date(2025, 3, 24), text="旧")
    current = TermsVersion.objects.create(version="2026.1", effective_date=date(2026, 1, 1), text="新")
    TermsVersion.objects.create(version="2099.1", effective_date=date(2099, 1, 1), text="未来")
    statement = statement_create(record_id=record.pk, items=["address"], actor=clerk)
    assert statement.terms_version == current
    assert "利用規約の版: 2026.1\n" in statement.text


def test_r17_without_terms_in_effect_nothing_starts(clerk, record):
    TermsVersion.objects.create(version="2099.1", effective_date=date(2099, 1, 1), text="未来")
    refused = refusal(record_id=record.pk, items=["address"], actor=clerk)
    assert refused.code == "no_terms"
    assert "利用規約" in refused.message


def test_statement_is_the_canonical_japanese_text_with_a_one_time_nonce(clerk, terms, record):
    first = statement_create(record_id=record.pk, items=["address", "name"], actor=clerk)
    second = statement_create(record_id=record.pk, items=["address", "name"], actor=clerk)
    assert first.nonce != second.nonce
    assert first.text.startswith("住所変更ワンストップサービス等 利用開始の同意\n")
    for line in (
        f"記録番号: {record.number}",
        "記録の種別: 運転免許",
        "受付: 府中運転免許試験場（13-LC）",
        f"確認番号: {first.nonce}",
    ):
        assert line + "\n" in first.text
    assert "（日本時間）" in first.text
    assert record.name not in first.text  # the statement names the record, not the person
    assert first.expires_at - first.created_at == timedelta(minutes=15)
    event = AuditEvent.objects.get(action="consent.statement_create", subject_id=str(first.pk))
    assert (event.actor, event.record_number) == (clerk, record.number)


def test_an_auditor_cannot_start_a_consent(auditor, terms, record):
    assert refusal(record_id=record.pk, items=["address"], actor=auditor).code == "not_counter_staff"
