"""R16: a disclosure request goes received -> identity checked -> fee paid -> answered -> closed,
one supervisor's step at a time, audited; its report holds all of that holder's data and none of
anyone else's, and producing it is audited."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation

from consents.feed import skip_reason_text
from consents.selectors import items_label
from onestop.models import AuditEvent
from safeguards.errors import SafeguardRefused
from safeguards.models import DisclosureRequest, DisclosureStatus
from safeguards.services import (
    disclosure_answer,
    disclosure_close,
    disclosure_fee_record,
    disclosure_identity_check,
    disclosure_register,
    suspension_confirm,
    suspension_propose,
)
from tests.support.one_by_one import event_apply

from .conftest import _move

pytestmark = pytest.mark.django_db


def register(record, actor, **overrides) -> DisclosureRequest:
    values = {"requester_kind": "holder", "requester_name": "鈴木　一朗", "received_on": date(2026, 11, 20)}
    return disclosure_register(record_id=record.pk, actor=actor, **{**values, **overrides})


def identity(request, actor):
    return disclosure_identity_check(request_id=request.pk, actor=actor, document="my_number_card", note="顔写真を照合")


def fee(request, actor):
    return disclosure_fee_record(
        request_id=request.pk, actor=actor, amount=300, receipt_number="R-2026-0042", paid_on=date(2026, 11, 21)
    )


def answer(request, actor):
    return disclosure_answer(request_id=request.pk, actor=actor, method="in_person", answered_on=date(2026, 12, 4))


def not_in_order():
    return pytest.raises(SafeguardRefused, match=r"^not_in_order:")


def paid(record, actor) -> DisclosureRequest:
    request = register(record, actor)
    identity(request, actor)
    return fee(request, actor)


def test_r16_the_steps_advance_only_in_order(suspect, supervisor, second_supervisor):
    request = register(suspect.record, supervisor)
    assert request.status == DisclosureStatus.RECEIVED
    for skip in (fee, answer):
        with not_in_order():
            skip(request, supervisor)
    with not_in_order():
        disclosure_close(request_id=request.pk, actor=supervisor)
    assert identity(request, supervisor).status == DisclosureStatus.IDENTITY_CHECKED
    with not_in_order():
        identity(request, second_supervisor)  # a step is taken once
    assert fee(request, second_supervisor).status == DisclosureStatus.FEE_PAID
    assert answer(request, supervisor).status == DisclosureStatus.ANSWERED
    closed = disclosure_close(request_id=request.pk, actor=second_supervisor)
    assert closed.status == DisclosureStatus.CLOSED
    for step in (identity, fee, answer):
        with not_in_order():
            step(request, supervisor)
    assert (closed.identity_checked_by, closed.identity_document, closed.fee_recorded_by, closed.fee_amount) == (
        supervisor,
        "my_number_card",
        second_supervisor,
        300,
    )
    assert (closed.fee_receipt_number, closed.answered_on, closed.closed_by) == (
        "R-2026-0042",
        date(2026, 12, 4),
        second_supervisor,
    )
    steps = AuditEvent.objects.filter(action="disclosure.advance", subject_id=str(request.pk)).order_by("id")
    assert [(a.old_values["status"], a.new_values["status"]) for a in steps] == [
        ("received", "identity_checked"),
        ("identity_checked", "fee_paid"),
        ("fee_paid", "answered"),
        ("answered", "closed"),
    ]
    registered = AuditEvent.objects.get(action="disclosure.register")
    assert registered.record_number == suspect.record.number
    assert "鈴木" not in str(registered.new_values)  # the requester's name stays with the request


def test_r16_the_database_refuses_a_skipped_step(suspect, supervisor):
    request = register(suspect.record, supervisor)
    with pytest.raises(IntegrityError), transaction.atomic():
        DisclosureRequest.objects.filter(pk=request.pk).update(status=DisclosureStatus.FEE_PAID)


def test_r16_only_supervisors_take_the_steps(suspect, clerk, auditor, supervisor):
    for actor in (clerk, auditor):
        with pytest.raises(SafeguardRefused, match=r"^forbidden:"):
            register(suspect.record, actor)
    request = register(suspect.record, supervisor)
    with pytest.raises(SafeguardRefused, match=r"^forbidden:"):
        identity(request, auditor)
    assert DisclosureRequest.objects.get().status == DisclosureStatus.RECEIVED


def test_r14_no_my_number_in_the_requests_free_text(suspect, supervisor):
    with pytest.raises(SafeguardRefused, match=r"^contains_my_number:"):
        register(suspect.record, supervisor, requester_name="123456789018")
    request = register(suspect.record, supervisor)
    with pytest.raises(SafeguardRefused, match=r"^contains_my_number:"):
        disclosure_identity_check(
            request_id=request.pk, actor=supervisor, document="other_photo_id", note="1234-5678-9018"
        )


def _report(client, request) -> str:
    response = client.get(reverse("safeguards:disclosure-report", args=[request.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_r16_the_report_holds_all_of_the_holders_data_and_none_of_anothers(client, suspect, bystander, supervisor):
    s1 = suspect.consent.cert_serial
    stale = _move(old=s1, new=f"{s1}7", seq=1, address="東京都北区王子本町一丁目１５番２２号")
    event_apply(event_pk=stale.pk)  # an old certificate: skipped, and the reason is kept
    request = paid(suspect.record, supervisor)
    client.force_login(supervisor)
    page = _report(client, request)
    record = suspect.record
    with translation.override("ja"):
        expected = [
            record.number,
            record.name,
            record.address,
            "昭和50年1月2日（1975年1月2日）",  # the birth date, 和暦 first
            record.get_holding_status_display(),
            *(str(s) for s in {s1, suspect.kept["serial"], suspect.events["second"].serial}),
            suspect.consent.reference,
            suspect.old_consent.reference,
            suspect.consent.get_status_display(),
            suspect.old_consent.get_status_display(),
            suspect.consent.get_channel_display(),
            items_label(suspect.consent.items),
            items_label(suspect.old_consent.items),
            "令和8年4月1日（2026年4月1日）",  # the consent date J-LIS reflected
            "令和18年4月1日（2036年4月1日）",  # R5: 2026-04-02 + 10 years - 1 day
            *(e.event_id for e in suspect.events.values()),
            stale.event_id,
            skip_reason_text("stale"),
            "鈴木　壱郎",  # the name J-LIS gave, as held in the event and the history
            "東京都府中市多磨町３丁目１番地",  # the first address J-LIS gave
            "東京都台東区上野公園１３番９号",  # the address still waiting to be applied
            "東京都千代田区霞が関二丁目１番１号",  # the address before J-LIS's first change
            "マイナポータル連携",
            "1 件は読み取れず",  # the unreadable event naming the holder
        ]
    missing = [value for value in expected if value not in page]
    assert missing == []
    other = bystander.record
    foreign = [
        other.number,
        *bystander.collected.values(),
        *bystander.kept.values(),
        bystander.consent.reference,
        bystander.old_consent.reference,
        bystander.consent.cert_serial,
        *(e.event_id for e in bystander.events.values()),
    ]
    assert [value for value in foreign if value in page] == []


def test_r16_producing_the_report_is_audited(client, suspect, supervisor, auditor):
    request = paid(suspect.record, supervisor)
    client.force_login(supervisor)
    _report(client, request)
    client.force_login(auditor)
    _report(client, request)
    views = AuditEvent.objects.filter(action="disclosure.report").order_by("id")
    assert [(a.actor, a.record_number, a.subject_id) for a in views] == [
        (supervisor, suspect.record.number, str(request.pk)),
        (auditor, suspect.record.number, str(request.pk)),
    ]


def test_r16_no_report_before_the_fee_is_paid(client, suspect, supervisor):
    request = register(suspect.record, supervisor)
    identity(request, supervisor)
    client.force_login(supervisor)
    response = client.get(reverse("safeguards:disclosure-report", args=[request.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("safeguards:disclosure", args=[request.pk])
    assert "手数料の納付後に作成できます" in response.content.decode()
    assert not AuditEvent.objects.filter(action="disclosure.report").exists()


def test_r16_the_report_after_a_suspension_says_what_was_erased(client, suspect, supervisor, second_supervisor):
    proposal = suspension_propose(
        record_id=suspect.record.pk, actor=supervisor, reason_code="sabotage", grounds="evident", note="妨害"
    )
    suspension_confirm(request_id=proposal.pk, actor=second_supervisor)
    request = paid(suspect.record, supervisor)
    client.force_login(supervisor)
    page = _report(client, request)
    assert "本サービスを停止し、あなたから収集した情報を抹消しました" in page
    assert "証明書は保有していない" in page and "証明書を保有" not in page
    assert "東京都府中市多磨町３丁目１番地" not in page  # erased, so no longer held
    assert suspect.kept["address"] in page  # the record is kept
