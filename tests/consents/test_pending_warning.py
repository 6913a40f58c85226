"""A registration while another consent waits for J-LIS (R6, issue 18 item 5): the holder page and
the statement page warn, name the waiting consent (reference, when, items) and say which consent
will govern; the earlier consent is never called new. The last test plays J-LIS's side with the
simulator: what the warning foretold is what R6 makes of J-LIS reflecting both in its order."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from applier.batch import events_apply_pending
from consents.models import ConsentStatus
from jlis_gateway.services.poll import events_poll
from onestop.templatetags.wareki_tags import jst
from tests.counter_flow import register_at_counter
from tests.driver_records.world import consent_for

pytestmark = pytest.mark.django_db

NEW_IN_JAPANESE = "新しい同意"


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _warning(body: str) -> str:
    start = body.rindex("<section", 0, body.index('data-testid="pending-warning"'))
    return body[start : body.index("</section>", start)]


def test_r06_the_holder_page_warns_before_a_second_registration_and_names_the_waiting_consent(
    client, clerk, record, terms
):
    waiting = consent_for(record, items=("address", "name"), status=ConsentStatus.PENDING)
    client.force_login(clerk)
    warning = _warning(_page(client, reverse("counter:record", args=[record.pk])))
    assert "J-LISへの反映を待っている同意が既にあります" in warning
    assert waiting.reference in warning
    assert f"{jst(waiting.created_at)} 登録" in warning
    assert "住所、氏名" in warning
    # R6 and the terms 4(2): the consent made again governs once J-LIS reflects it; the earlier one ends.
    assert "通常は新しい同意が有効になります" in warning
    assert f"{waiting.reference}は「再同意により終了」" in warning


def test_r06_the_statement_page_warns_before_the_holder_signs(client, clerk, record, terms):
    waiting = consent_for(record, items=("address",), status=ConsentStatus.PENDING)
    client.force_login(clerk)
    response = client.post(reverse("consents:statement-new", args=[record.pk]), {"items": ["name"]})
    warning = _warning(_page(client, response["Location"]))
    assert waiting.reference in warning and "住所" in warning
    assert "本人がこの同意文に署名すると" in warning
    assert "通常はこの新しい同意が有効になります" in warning
    assert f"{waiting.reference}は「再同意により終了」" in warning


def test_no_warning_without_a_waiting_consent(client, clerk, record, terms):
    consent_for(record, items=("address",), status=ConsentStatus.ACTIVE)
    client.force_login(clerk)
    assert 'data-testid="pending-warning"' not in _page(client, reverse("counter:record", args=[record.pk]))
    response = client.post(reverse("consents:statement-new", args=[record.pk]), {"items": ["name"]})
    assert 'data-testid="pending-warning"' not in _page(client, response["Location"])


def test_r06_the_earlier_of_two_waiting_consents_is_never_labelled_new(client, clerk, record, terms):
    earlier = consent_for(
        record, items=("address",), status=ConsentStatus.PENDING, created_at=timezone.now() - timedelta(hours=1)
    )
    later = consent_for(record, items=("name",), status=ConsentStatus.PENDING)
    client.force_login(clerk)
    body = _page(client, reverse("counter:record", args=[record.pk]))
    consent_part = body[body.index('data-testid="consent-section"') :]
    consent_part = consent_part[: consent_part.index('data-testid="pending-warning"')]
    # Nothing before the warning calls either consent new, and the listing of the earlier one says
    # what it is: waiting, registered at its time.
    assert NEW_IN_JAPANESE not in consent_part
    listed = re.search(r'data-testid="pending-consents">(.*?)</ul>', consent_part, re.S).group(1)
    assert earlier.reference in listed and later.reference not in listed
    assert "J-LISへの反映を待っている他の同意" in consent_part
    governs = re.search(r'data-testid="pending-governs">(.*?)</p>', consent_part, re.S).group(1)
    assert f"最後に登録した{later.reference}が有効" in governs
    assert f"{earlier.reference}は「再同意により終了」" in governs


@pytest.mark.django_db(transaction=True)
def test_r06_what_the_warning_foretold_is_what_jlis_reflecting_both_makes_of_them(
    client, clerk, record, terms, issue_card_for, jlis_simulator
):
    card = issue_card_for(record)
    first = register_at_counter(record, clerk, card, ("address",))
    client.force_login(clerk)
    warning = _warning(_page(client, reverse("counter:record", args=[record.pk])))
    assert f"{first.reference}は「再同意により終了」" in warning
    second = register_at_counter(record, clerk, card, ("name",))

    jlis_simulator.reflect()  # J-LIS's batch takes every pending consent, in the order they reached it
    while events_poll().has_more:
        pass
    events_apply_pending()
    first.refresh_from_db()
    second.refresh_from_db()
    # R6: the later consent date, then J-LIS's order: the one registered again governs.
    assert (second.status, first.status) == (ConsentStatus.ACTIVE, ConsentStatus.SUPERSEDED)
    assert first.superseded_by_id == second.pk
