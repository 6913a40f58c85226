"""The counter pages, in Japanese: start, statement, demo signing, result, receipt, revocation."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from consents.models import Consent, ConsentStatement, ConsentStatus, MynaportalLink
from consents.services import consent_reflect
from jlis_gateway.models import OutboxKind, OutboxMessage, OutboxStatus
from tests.factories import DriverRecordFactory

pytestmark = pytest.mark.django_db


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def start(client, record, items=("address", "name")):
    return client.post(reverse("consents:statement-new", args=[record.pk]), {"items": list(items)})


def test_r01_holder_page_refuses_a_two_card_holder_with_the_reason(client, clerk, terms):
    record = DriverRecordFactory(holding_status="licence_both")
    client.force_login(clerk)
    body = page(client, reverse("counter:record", args=[record.pk]))
    assert 'data-testid="start-refusal"' in body
    assert "2枚持ち" in body
    assert "署名する同意文を作成" not in body


def test_r04_holder_page_refuses_an_out_of_prefecture_holder(client, clerk, terms):
    record = DriverRecordFactory(prefecture="27", address="大阪府門真市一番町２３番１６号")
    client.force_login(clerk)
    body = page(client, reverse("counter:record", args=[record.pk]))
    assert "住所地の都道府県の免許センター又は警察署" in body
    assert "署名する同意文を作成" not in body


def test_r02_clerk_chooses_items_and_sees_the_statement_in_japanese(client, clerk, record, terms):
    client.force_login(clerk)
    body = page(client, reverse("counter:record", args=[record.pk]))
    assert "J-LIS から警察への提供に同意する事項" in body
    assert "この方の同意は登録されていません。" in body

    response = start(client, record, ("name",))

    statement = ConsentStatement.objects.get()
    assert response["Location"] == reverse("consents:statement", args=[statement.pk])
    body = page(client, response["Location"])
    assert "署名する同意文" in body
    assert "同意する事項: 氏名" in body
    assert statement.nonce in body


def test_r02_no_item_chosen_is_refused_on_screen(client, clerk, record, terms):
    client.force_login(clerk)
    response = start(client, record, ())
    assert response["Location"] == reverse("counter:record", args=[record.pk])
    assert "一つ以上選んでください" in page(client, response["Location"])
    assert not ConsentStatement.objects.exists()


def test_r03_demo_card_signs_and_the_receipt_shows_the_pending_consent(client, clerk, record, terms, demo_cards):
    client.force_login(clerk)
    statement_url = start(client, record)["Location"]
    statement = ConsentStatement.objects.get()
    assert "デモ用カードで署名" in page(client, statement_url)

    response = client.post(reverse("consents:statement-demo-sign", args=[statement.pk]), {"variant": "valid"})

    consent = Consent.objects.get()
    assert response["Location"] == reverse("consents:receipt", args=[consent.pk])
    body = page(client, response["Location"])
    assert "同意を受け付けました。J-LIS への反映を待っています。" in body
    assert "受付済（J-LIS反映待ち）" in body
    assert consent.reference in body
    assert "住所、氏名" in body
    assert "2025.1" in body  # terms version
    assert "府中運転免許試験場" in body
    assert OutboxMessage.objects.get().kind == OutboxKind.SUBMIT_CONSENT
    # The statement page now leads to the result.
    assert client.get(statement_url)["Location"] == reverse("consents:receipt", args=[consent.pk])


def test_r03_tampered_signature_is_explained_in_japanese_and_nothing_is_stored(
    client, clerk, record, terms, demo_cards
):
    client.force_login(clerk)
    start(client, record)
    statement = ConsentStatement.objects.get()

    response = client.post(reverse("consents:statement-demo-sign", args=[statement.pk]), {"variant": "tampered"})

    assert response["Location"] == reverse("consents:statement", args=[statement.pk])
    body = page(client, response["Location"])
    assert "署名が同意内容と一致しません。" in body
    assert "何も登録されておらず、J-LIS にも送信していません。" in body
    assert not Consent.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_double_click_on_sign_makes_one_consent_and_lands_on_the_same_receipt(client, clerk, record, terms, demo_cards):
    client.force_login(clerk)
    start(client, record)
    statement = ConsentStatement.objects.get()
    url = reverse("consents:statement-demo-sign", args=[statement.pk])
    form = {"variant": "valid", "idempotency_key": "form-key-0001"}

    first = client.post(url, form)
    second = client.post(url, form)

    assert Consent.objects.count() == 1
    assert OutboxMessage.objects.count() == 1
    assert second.status_code == first.status_code == 302
    assert second["Location"] == first["Location"] == reverse("consents:receipt", args=[Consent.objects.get().pk])
    assert second["Idempotent-Replayed"] == "true"


def test_r05_r08_holder_page_and_receipt_show_the_reflected_consent(client, clerk, record, register):
    consent = register(record, ("address",))
    consent_reflect(consent_id=consent.pk, consent_date=date(2024, 2, 29))
    client.force_login(clerk)

    body = page(client, reverse("counter:record", args=[record.pk]))
    assert "有効" in body
    assert "令和6年2月29日（2024年2月29日）" in body  # consent date, 和暦 first
    assert "令和16年2月28日（2034年2月28日）" in body  # last valid day
    assert "日本時間 23時59分59秒まで" in body

    receipt = page(client, reverse("consents:receipt", args=[consent.pk]))
    # R5: reflected 2024-02-29 (令和6年), the period runs from 2024-03-01 to 2034-02-28 (民法 143(2)).
    assert "令和6年2月29日（2024年2月29日）" in receipt
    assert "令和16年2月28日（2034年2月28日）" in receipt


def test_item7_the_receipt_is_for_the_holder(client, clerk, record, register, tokyo_office):
    tokyo_office.address, tokyo_office.phone = "東京都府中市多磨町3-1-1", "042-000-0001"
    tokyo_office.save()
    consent = register(record, ("address", "name"))
    client.force_login(clerk)

    pending = page(client, reverse("consents:receipt", args=[consent.pk]))
    for shown in (
        record.name,
        record.number,
        consent.reference,
        "住所、氏名",  # the items, in the terms' order
        "2025.1",  # the terms version signed
        "府中運転免許試験場",
        "東京都府中市多磨町3-1-1",
        "042-000-0001",
        "印刷する",
    ):
        assert shown in pending, shown
    assert pending.count("J-LISでの反映待ち") == 2  # the consent date and the last valid day are not known yet

    consent_reflect(consent_id=consent.pk, consent_date=date(2026, 4, 1))
    reflected = page(client, reverse("consents:receipt", args=[consent.pk]))
    assert "J-LISでの反映待ち" not in reflected
    assert "令和8年4月1日（2026年4月1日）" in reflected  # consent date
    assert "令和18年4月1日（2036年4月1日）" in reflected  # R5: 2026-04-02 + 10 years - 1 day


def test_item10_a_revocation_leaves_the_holder_a_slip(client, supervisor, record, register, tokyo_office):
    tokyo_office.address, tokyo_office.phone = "東京都府中市多磨町3-1-1", "042-000-0001"
    tokyo_office.save()
    consent = register(record, ("address",))
    client.force_login(supervisor)

    done = client.post(
        reverse("consents:revoke", args=[consent.pk]), {"reason": "本人から取消の申出", "confirmed": "1"}
    )

    assert done["Location"] == reverse("consents:revocation-slip", args=[consent.pk])
    slip = page(client, done["Location"])
    revoked_at = timezone.localtime(Consent.objects.get().revoked_at)
    for shown in (
        "同意を取り消しました。",
        record.name,
        record.number,
        consent.reference,
        "住所",
        "本人から取消の申出",
        "府中運転免許試験場",
        "東京都府中市多磨町3-1-1",
        "042-000-0001",
        f"{revoked_at.year}年{revoked_at.month}月{revoked_at.day}日） {revoked_at:%H:%M}",  # JST
        "印刷する",
    ):
        assert shown in slip, shown
    # The receipt of the revoked consent leads to its slip; a consent in force has none.
    assert done["Location"] in page(client, reverse("consents:receipt", args=[consent.pk]))
    other = register(record, ("name",))
    assert client.get(reverse("consents:revocation-slip", args=[other.pk])).status_code == 404


def test_r09_a_clerk_cannot_open_the_revoke_screen(client, clerk, record, register):
    consent = register(record)
    client.force_login(clerk)
    assert client.get(reverse("consents:revoke", args=[consent.pk])).status_code == 403
    assert (
        client.post(reverse("consents:revoke", args=[consent.pk]), {"reason": "x", "confirmed": "1"}).status_code == 403
    )
    assert Consent.objects.get().status == ConsentStatus.PENDING
    assert "この同意を取り消す" not in page(client, reverse("counter:record", args=[record.pk]))


def test_r09_a_supervisor_revokes_after_confirming(client, supervisor, record, register):
    consent = register(record)
    client.force_login(supervisor)
    url = reverse("consents:revoke", args=[consent.pk])
    assert "この同意を取り消す" in page(client, reverse("counter:record", args=[record.pk]))
    assert "取消の理由" in page(client, url)

    confirm = client.post(url, {"reason": "本人の申出"})
    assert confirm.status_code == 200
    assert "この同意を取り消しますか。" in confirm.content.decode()
    assert Consent.objects.get().status == ConsentStatus.PENDING  # not yet

    done = client.post(url, {"reason": "本人の申出", "confirmed": "1"})
    assert done["Location"] == reverse("consents:revocation-slip", args=[consent.pk])
    assert "同意を取り消しました。" in page(client, done["Location"])
    assert Consent.objects.get().status == ConsentStatus.REVOKED
    # Its submission was never sent: it never will be, so J-LIS has nothing to revoke (R9).
    assert OutboxMessage.objects.get(kind=OutboxKind.SUBMIT_CONSENT).status == OutboxStatus.FAILED
    assert not OutboxMessage.objects.filter(kind=OutboxKind.REVOKE_CONSENT).exists()


def test_r09_revoke_screen_refuses_a_my_number_as_reason(client, supervisor, record, register):
    consent = register(record)
    client.force_login(supervisor)
    response = client.post(reverse("consents:revoke", args=[consent.pk]), {"reason": "123456789018"})
    assert "個人番号" in response.content.decode()
    assert Consent.objects.get().status == ConsentStatus.PENDING


def test_r13_clerk_records_mynaportal_linkage(client, clerk, record, register):
    consent = register(record)
    consent_reflect(consent_id=consent.pk, consent_date=date(2026, 4, 1))
    client.force_login(clerk)
    url = reverse("consents:mynaportal-link", args=[record.pk])

    unconfirmed = client.post(url, {})
    assert "チェックを入れてください" in page(client, unconfirmed["Location"])
    assert not MynaportalLink.objects.exists()

    body = page(client, client.post(url, {"confirmed": "on"})["Location"])
    assert "マイナポータル連携を記録しました。" in body
    assert MynaportalLink.objects.get().linked_by == clerk


def test_statement_of_another_office_is_not_shown(client, clerk, record, terms, make_statement, osaka_supervisor):
    statement = make_statement(record)
    client.force_login(osaka_supervisor)
    assert client.get(reverse("consents:statement", args=[statement.pk])).status_code == 403


def test_auditor_reads_the_receipt_but_cannot_start(client, auditor, record, register):
    consent = register(record)
    client.force_login(auditor)
    assert consent.reference in page(client, reverse("consents:receipt", args=[consent.pk]))
    assert "署名する同意文を作成" not in page(client, reverse("counter:record", args=[record.pk]))
    assert start(client, record).status_code == 403


def test_item10_the_slip_is_read_only_where_the_holder_may_be_read(
    client, supervisor, osaka_supervisor, record, register
):
    consent = register(record)
    client.force_login(supervisor)
    client.post(reverse("consents:revoke", args=[consent.pk]), {"reason": "本人の申出", "confirmed": "1"})
    client.force_login(osaka_supervisor)  # R4: another prefecture's counter
    assert client.get(reverse("consents:revocation-slip", args=[consent.pk])).status_code == 403
