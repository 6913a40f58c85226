"""The supervisors' pages (R15, R16), in Japanese: proposing from the holder page, the list of
proposals, the second supervisor's decision with its confirmation step, disclosure steps.
Auditors read them and every POST of theirs is refused; clerks do not reach them."""

from __future__ import annotations

import pytest
from django.urls import get_resolver, reverse

from consents.models import Consent, ConsentStatus
from onestop.models import AuditEvent
from safeguards.models import DisclosureRequest, DisclosureStatus, SuspensionRequest, SuspensionStatus
from safeguards.services import disclosure_register, suspension_propose

pytestmark = pytest.mark.django_db


def page(client, url: str, **kwargs) -> str:
    response = client.get(url, **kwargs)
    assert response.status_code == 200, url
    return response.content.decode()


def proposal_for(record, supervisor) -> SuspensionRequest:
    return suspension_propose(
        record_id=record.pk, actor=supervisor, reason_code="unauthorised_access", grounds="evident", note="不正アクセス"
    )


def test_r15_a_supervisor_proposes_from_the_holder_page(client, suspect, supervisor):
    client.force_login(supervisor)
    holder_page = page(client, reverse("counter:record", args=[suspect.record.pk]))
    propose_url = reverse("safeguards:suspension-propose", args=[suspect.record.pk])
    assert propose_url in holder_page and "防御措置・開示請求" in holder_page  # the section and the nav
    form = page(client, propose_url)
    assert "(2) 免許保有者本人以外が、本サービスを利用すること" in form and "該当する行為があると疑われる" in form
    response = client.post(
        propose_url, {"reason_code": "not_the_holder", "grounds": "suspected", "note": "本人以外の来庁者が利用を試みた"}
    )
    proposal = SuspensionRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("safeguards:suspension", args=[proposal.pk])
    assert (proposal.proposed_by, proposal.status) == (supervisor, SuspensionStatus.PROPOSED)
    listing = page(client, reverse("safeguards:home"))
    assert suspect.record.number in listing and "あなたの提案：別の責任者が決定します" in listing


def test_r15_the_proposer_sees_the_proposal_but_cannot_decide(client, suspect, supervisor):
    proposal = proposal_for(suspect.record, supervisor)
    client.force_login(supervisor)
    url = reverse("safeguards:suspension", args=[proposal.pk])
    detail = page(client, url)
    assert "別の責任者が確認または却下する必要があります" in detail and 'name="decision"' not in detail
    response = client.post(url, {"decision": "confirm", "confirmed": "1"})
    assert "別の責任者が確認または却下する必要があります" in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.status == SuspensionStatus.PROPOSED
    assert Consent.objects.get(pk=suspect.consent.pk).status == ConsentStatus.ACTIVE


def test_r15_a_second_supervisor_confirms_after_a_confirmation_step(client, suspect, supervisor, second_supervisor):
    proposal = proposal_for(suspect.record, supervisor)
    client.force_login(second_supervisor)
    url = reverse("safeguards:suspension", args=[proposal.pk])
    assert 'name="decision"' in page(client, url)
    step = client.post(url, {"decision": "confirm", "note": ""})
    text = step.content.decode()
    assert step.status_code == 200 and 'data-testid="confirm-step"' in text
    assert "この操作は元に戻せません" in text and "署名用電子証明書" in text
    assert SuspensionRequest.objects.get().status == SuspensionStatus.PROPOSED  # nothing yet
    done = client.post(url, {"decision": "confirm", "note": "", "confirmed": "1"}, follow=True)
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by) == (SuspensionStatus.CONFIRMED, second_supervisor)
    assert "収集した情報を抹消しました" in done.content.decode()
    assert 'data-testid="erased"' in done.content.decode()
    holder_page = page(client, reverse("counter:record", args=[suspect.record.pk]))
    assert 'data-testid="suspended"' in holder_page
    assert "防御措置（利用規約７）により停止されています" in holder_page  # instead of the registration form
    assert reverse("consents:statement-new", args=[suspect.record.pk]) not in holder_page


def test_r15_a_rejection_needs_a_reason(client, suspect, supervisor, second_supervisor):
    proposal = proposal_for(suspect.record, supervisor)
    client.force_login(second_supervisor)
    url = reverse("safeguards:suspension", args=[proposal.pk])
    missing = client.post(url, {"decision": "reject", "note": ""})
    assert "却下の理由を入力してください" in missing.content.decode()
    client.post(url, {"decision": "reject", "note": "根拠が不十分"})
    client.post(url, {"decision": "reject", "note": "根拠が不十分", "confirmed": "1"})
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decision_note) == (SuspensionStatus.REJECTED, "根拠が不十分")


def test_clerks_do_not_reach_the_supervisors_pages(client, suspect, clerk, supervisor):
    proposal = proposal_for(suspect.record, supervisor)
    disclosure = disclosure_register(
        record_id=suspect.record.pk, actor=supervisor, requester_kind="holder", requester_name="鈴木　一朗",
        received_on=proposal.proposed_at.date(),
    )  # fmt: skip
    client.force_login(clerk)
    holder_page = page(client, reverse("counter:record", args=[suspect.record.pk]))
    assert reverse("safeguards:suspension-propose", args=[suspect.record.pk]) not in holder_page
    assert reverse("safeguards:home") not in holder_page
    for url in (
        reverse("safeguards:home"),
        reverse("safeguards:suspension-propose", args=[suspect.record.pk]),
        reverse("safeguards:suspension", args=[proposal.pk]),
        reverse("safeguards:disclosure-new", args=[suspect.record.pk]),
        reverse("safeguards:disclosure", args=[disclosure.pk]),
        reverse("safeguards:disclosure-report", args=[disclosure.pk]),
    ):
        assert client.get(url).status_code == 403, url


def test_auditors_read_and_cannot_change(client, suspect, supervisor, auditor):
    proposal = proposal_for(suspect.record, supervisor)
    disclosure = disclosure_register(
        record_id=suspect.record.pk, actor=supervisor, requester_kind="agent", requester_name="代理　太郎",
        received_on=proposal.proposed_at.date(),
    )  # fmt: skip
    client.force_login(auditor)
    assert suspect.record.number in page(client, reverse("safeguards:home"))
    assert "不正アクセス" in page(client, reverse("safeguards:suspension", args=[proposal.pk]))
    detail = page(client, reverse("safeguards:disclosure", args=[disclosure.pk]))
    assert "代理　太郎" in detail and 'name="step"' not in detail
    posts = {
        reverse("safeguards:suspension", args=[proposal.pk]): {"decision": "confirm", "confirmed": "1"},
        reverse("safeguards:suspension-propose", args=[suspect.record.pk]): {
            "reason_code": "misuse", "grounds": "evident", "note": "x",
        },
        reverse("safeguards:disclosure", args=[disclosure.pk]): {"step": "identity", "document": "passport"},
        reverse("safeguards:disclosure-new", args=[suspect.record.pk]): {
            "requester_kind": "holder", "requester_name": "x", "received_on": "2026-11-20",
        },
    }  # fmt: skip
    for url, data in posts.items():
        assert client.post(url, data).status_code == 403, url
    assert list(SuspensionRequest.objects.values_list("status", flat=True)) == [SuspensionStatus.PROPOSED]
    assert list(DisclosureRequest.objects.values_list("status", flat=True)) == [DisclosureStatus.RECEIVED]
    # The admin lists them read-only.
    admin_list = page(client, reverse("admin:safeguards_suspensionrequest_changelist"))
    assert suspect.record.number in admin_list
    change = reverse("admin:safeguards_disclosurerequest_change", args=[disclosure.pk])
    assert client.post(change, {"status": "closed"}).status_code == 403


def test_r16_a_supervisor_takes_each_step_on_the_request_page(client, suspect, supervisor):
    client.force_login(supervisor)
    new_url = reverse("safeguards:disclosure-new", args=[suspect.record.pk])
    assert "利用規約11" in page(client, new_url)
    client.post(new_url, {"requester_kind": "holder", "requester_name": "鈴木　一朗", "received_on": "2026-11-20"})
    disclosure = DisclosureRequest.objects.get()
    url = reverse("safeguards:disclosure", args=[disclosure.pk])
    assert "本人確認書類" in page(client, url)
    # A step out of order is refused with the reason.
    skipped = client.post(url, {"step": "fee", "amount": "300", "receipt_number": "R-1", "paid_on": "2026-11-21"})
    assert skipped.status_code == 302
    assert "受付、本人確認、手数料納付、回答、完了の順に進みます" in page(client, url)
    steps = [
        {"step": "identity", "document": "driving_licence", "note": "顔写真を照合"},
        {"step": "fee", "amount": "300", "receipt_number": "R-1", "paid_on": "2026-11-21"},
        {"step": "answer", "method": "post", "answered_on": "2026-12-04"},
        {"step": "close", "confirmed": "on"},
    ]
    for data in steps:
        client.post(url, data)
    disclosure.refresh_from_db()
    assert disclosure.status == DisclosureStatus.CLOSED
    assert "完了" in page(client, url)
    viewed = AuditEvent.objects.filter(action="disclosure.view", subject_id=str(disclosure.pk)).count()
    assert viewed >= 3  # every page that shows the request is audited


def test_every_safeguards_view_declares_its_roles():
    resolver = get_resolver()
    counter = next(p for p in resolver.url_patterns if getattr(p, "app_name", None) == "safeguards")
    for pattern in counter.url_patterns:
        assert hasattr(pattern.callback, "allowed_roles"), f"{pattern.name} has no role rule"


def test_r16_a_day_that_has_not_come_yet_is_refused_with_the_reason_and_nothing_is_stored(client, suspect, supervisor):
    """The form's received-on, the fee's paid-on and the answer's answered-on are days something
    happened: a day after today (in Japan) is a typing slip, refused with today's date shown, and
    what was typed stays on the page."""
    from datetime import timedelta

    from onestop.clock import japan_today
    from onestop.wareki import wareki

    client.force_login(supervisor)
    tomorrow = japan_today() + timedelta(days=1)
    new_url = reverse("safeguards:disclosure-new", args=[suspect.record.pk])
    answer = client.post(
        new_url, {"requester_kind": "holder", "requester_name": "鈴木　一朗", "received_on": wareki(tomorrow)}
    )
    assert answer.status_code == 200
    text = answer.content.decode()
    assert f"まだ来ていない日付です（本日は{wareki(japan_today())}）" in text
    assert "鈴木　一朗" in text  # what was typed is kept
    assert not DisclosureRequest.objects.exists()

    client.post(new_url, {"requester_kind": "holder", "requester_name": "鈴木　一朗", "received_on": "2026-11-20"})
    disclosure = DisclosureRequest.objects.get()
    url = reverse("safeguards:disclosure", args=[disclosure.pk])
    client.post(url, {"step": "identity", "document": "driving_licence", "note": ""})
    fee = client.post(url, {"step": "fee", "amount": "300", "receipt_number": "R-1", "paid_on": tomorrow.isoformat()})
    assert "まだ来ていない日付です" in (fee.content.decode() if fee.status_code == 200 else page(client, url))
    disclosure.refresh_from_db()
    assert disclosure.fee_paid_on is None and disclosure.fee_amount is None
